import { Logger, type LoggerService } from '@nestjs/common';
import type { PolicyChange } from '../policy-store';
import { ChangeFeed, changePayload, type ChangeFeedTiming } from './change-feed';
import type { Listening, SqlDriver, SqlExecutor } from './sql-driver';

const CHANNEL = 'authz_changes';
const TIMING: ChangeFeedTiming = { pollIntervalMs: 1_000, reconnectMinMs: 100, reconnectMaxMs: 1_000 };
const START = Date.UTC(2030, 0, 1);

/** A promise and its resolver, for a driver call the test settles when it wants. */
function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: Error) => void } {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((ok, fail) => ((resolve = ok), (reject = fail)));
  return { promise, resolve, reject };
}

/** One LISTEN connection of the fake driver: the test delivers notifications and loses it. */
class FakeListening implements Listening {
  readonly lost: Promise<Error | undefined>;
  closed = false;
  private settle!: (error: Error | undefined) => void;

  constructor(
    readonly channel: string,
    readonly deliver: (payload: string) => void,
  ) {
    this.lost = new Promise((resolve) => (this.settle = resolve));
  }

  /** The server or the network ended the connection. */
  lose(error?: Error): void {
    this.settle(error);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.settle(undefined);
  }
}

/**
 * A database as the change feed sees it through SqlDriver: a revision row, and LISTEN connections that can be
 * refused, held while opening, lost and notified. A test double of the driver; the feed under test is the real one.
 */
class FakeDriver implements SqlDriver {
  readonly description = 'fake database';
  /** The store's revision row. */
  revision = 0;
  /** While set, queries fail with it (the database is unreachable). */
  queryError?: Error;
  /** While set, queries wait for it. */
  queryGate?: Promise<void>;
  queries = 0;
  /** While set, new LISTEN connections fail with it. */
  listenError?: Error;
  /** While set, a new LISTEN connection is opened only once it resolves. */
  listenGate?: Promise<void>;
  /** When each LISTEN connection was asked for (Date.now()). */
  readonly listenAttempts: number[] = [];
  readonly listenings: FakeListening[] = [];

  async query<Row>(sql: string): Promise<Row[]> {
    this.queries++;
    await this.queryGate;
    if (this.queryError) throw this.queryError;
    if (!/\brevision\b/.test(sql)) throw new Error(`unexpected statement: ${sql}`);
    return [{ value: String(this.revision) }] as Row[];
  }

  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return work(this);
  }

  async listen(channel: string, onNotification: (payload: string) => void): Promise<Listening> {
    this.listenAttempts.push(Date.now());
    await this.listenGate;
    if (this.listenError) throw this.listenError;
    const listening = new FakeListening(channel, onNotification);
    this.listenings.push(listening);
    return listening;
  }

  async close(): Promise<void> {}

  /** The connection the feed listens on now. */
  get current(): FakeListening {
    return this.listenings[this.listenings.length - 1];
  }

  /** A NOTIFY on the current connection, as PostgreSQL sends it at commit. */
  notify(change: { policy: string; subject?: string; revision: number }): void {
    this.revision = Math.max(this.revision, change.revision);
    this.current.deliver(changePayload(change));
  }
}

/** Keeps what the feed logs (it warns on every loss and failed reconnect). */
class LogRecorder implements LoggerService {
  readonly lines: string[] = [];
  log(message: string): void {
    this.lines.push(`log: ${message}`);
  }
  warn(message: string): void {
    this.lines.push(`warn: ${message}`);
  }
  error(message: string): void {
    this.lines.push(`error: ${message}`);
  }
}

describe('ChangeFeed', () => {
  const logs = new LogRecorder();
  let driver: FakeDriver;
  let changes: PolicyChange[];
  let feed: ChangeFeed | undefined;

  beforeAll(() => Logger.overrideLogger(logs));
  afterAll(() => Logger.overrideLogger(new Logger()));

  beforeEach(() => {
    jest.useFakeTimers({ now: START });
    driver = new FakeDriver();
    changes = [];
    logs.lines.length = 0;
  });

  afterEach(async () => {
    await feed?.close();
    feed = undefined;
    jest.useRealTimers();
  });

  /** A feed on the fake driver, reading the revision through it as the store does. */
  function newFeed(timing: ChangeFeedTiming = TIMING): ChangeFeed {
    const readRevision = async () => Number((await driver.query<{ value: string }>('SELECT value FROM authz.revision'))[0].value);
    feed = new ChangeFeed(driver, CHANNEL, readRevision, timing, (change) => changes.push(change));
    return feed;
  }

  async function started(timing?: ChangeFeedTiming): Promise<ChangeFeed> {
    const created = newFeed(timing);
    await created.start();
    return created;
  }

  /** Lets promise callbacks run (a lost connection is handled in one) without moving the clock. */
  const settle = () => jest.advanceTimersByTimeAsync(0);

  describe('when it starts', () => {
    it('should listen on its channel, report nothing and be up', async () => {
      driver.revision = 4;
      const up = await started();
      expect(driver.listenings.map((listening) => listening.channel)).toEqual([CHANNEL]);
      expect(changes).toEqual([]);
      expect(up.downSince()).toBeUndefined();
      // The revision read at start counts as heard: a notification it covers is no change.
      driver.current.deliver(changePayload({ policy: 'note', revision: 4 }));
      expect(changes).toEqual([]);
    });

    it('should throw when the first connection fails, so that the store does not start', async () => {
      driver.listenError = new Error('connect ECONNREFUSED 127.0.0.1:5432');
      await expect(newFeed().start()).rejects.toThrow('ECONNREFUSED');
      await settle();
      expect(driver.listenAttempts).toHaveLength(1);
    });
  });

  describe('when its connection is lost', () => {
    it('should be down since the loss and reconnect with a backoff that doubles from minMs up to maxMs', async () => {
      const up = await started();
      await jest.advanceTimersByTimeAsync(10_000);
      const lostAt = Date.now();
      driver.listenError = new Error('connect ECONNREFUSED 127.0.0.1:5432');
      driver.current.lose(new Error('terminating connection due to administrator command'));
      await settle();
      expect(up.downSince()).toBe(lostAt);

      await jest.advanceTimersByTimeAsync(5_500);
      const delays = driver.listenAttempts.slice(1).map((at, index, attempts) => at - (index === 0 ? lostAt : attempts[index - 1]));
      expect(delays).toEqual([100, 200, 400, 800, 1_000, 1_000, 1_000, 1_000]);
      expect(up.downSince()).toBe(lostAt);
      expect(logs.lines).toContain('warn: the policy change listener lost its connection (terminating connection due to administrator command); reconnecting');
      expect(logs.lines).toContain('warn: the policy change listener could not reconnect (connect ECONNREFUSED 127.0.0.1:5432); next try in 200 ms');

      driver.listenError = undefined;
      await jest.advanceTimersByTimeAsync(1_000);
      expect(driver.listenings).toHaveLength(2);
      expect(up.downSince()).toBeUndefined();
    });

    it('should start the backoff at minMs again after a successful reconnect', async () => {
      await started();
      driver.listenError = new Error('refused');
      driver.current.lose();
      await jest.advanceTimersByTimeAsync(100 + 200 + 400);
      driver.listenError = undefined;
      await jest.advanceTimersByTimeAsync(800);
      expect(driver.listenings).toHaveLength(2);

      const lostAgainAt = Date.now();
      driver.current.lose();
      await jest.advanceTimersByTimeAsync(100);
      expect(driver.listenAttempts[driver.listenAttempts.length - 1] - lostAgainAt).toBe(100);
      expect(driver.listenings).toHaveLength(3);
    });

    it('should flush everything once on reconnect, with the revision it reads, then skip the notifications that covers', async () => {
      driver.revision = 3;
      const up = await started();
      driver.current.lose(new Error('connection reset'));
      // Changes made while it was away: their notifications are gone.
      driver.revision = 5;
      await jest.advanceTimersByTimeAsync(100);
      expect(changes).toEqual([{ revision: 5 }]);
      expect(up.downSince()).toBeUndefined();
      expect(logs.lines).toContain('log: listening for policy changes again; dropping every remembered decision');

      driver.notify({ policy: 'note', subject: 'susan', revision: 5 });
      expect(changes).toEqual([{ revision: 5 }]);
      driver.notify({ policy: 'note', subject: 'susan', revision: 6 });
      expect(changes).toEqual([{ revision: 5 }, { policy: 'note', subject: 'susan', revision: 6 }]);
    });

    it('should still flush everything on reconnect when it cannot read the revision', async () => {
      driver.revision = 3;
      await started();
      driver.current.lose();
      driver.queryError = new Error('connection refused');
      await jest.advanceTimersByTimeAsync(100);
      expect(changes).toEqual([{ revision: 3 }]);
    });

    it('should ignore the end of a connection it no longer uses', async () => {
      await started();
      const first = driver.current;
      first.lose();
      await jest.advanceTimersByTimeAsync(100);
      expect(driver.listenings).toHaveLength(2);
      // The old connection's end arrives again (an error, then an end event): no second reconnect.
      first.lose(new Error('late'));
      await jest.advanceTimersByTimeAsync(5_000);
      expect(driver.listenings).toHaveLength(2);
      expect(changes).toHaveLength(1);
    });
  });

  describe('when changes are reported', () => {
    it("should report a write once, whether the writer's own report or its NOTIFY arrives first", async () => {
      const up = await started();
      up.report({ policy: 'note', subject: 'susan', revision: 1 });
      driver.notify({ policy: 'note', subject: 'susan', revision: 1 });
      driver.notify({ policy: 'note', revision: 2 });
      up.report({ policy: 'note', revision: 2 });
      expect(changes).toEqual([
        { policy: 'note', subject: 'susan', revision: 1 },
        { policy: 'note', subject: undefined, revision: 2 },
      ]);
    });

    it("should still report another instance's earlier revision whose NOTIFY arrives after this instance's own later write", async () => {
      const up = await started();
      // B commits r10, then this instance commits r11 and reports it before B's NOTIFY for r10 has arrived.
      up.report({ policy: 'note', subject: 'alice', revision: 11 });
      driver.notify({ policy: 'note', subject: 'susan', revision: 10 });
      driver.notify({ policy: 'note', subject: 'alice', revision: 11 });
      expect(changes).toEqual([
        { policy: 'note', subject: 'alice', revision: 11 },
        { policy: 'note', subject: 'susan', revision: 10 },
      ]);
    });

    it('should report each notification once, in commit order', async () => {
      await started();
      driver.notify({ policy: 'note', subject: 'susan', revision: 1 });
      driver.notify({ policy: 'note', subject: 'susan', revision: 1 });
      driver.notify({ policy: 'report', revision: 2 });
      expect(changes).toEqual([
        { policy: 'note', subject: 'susan', revision: 1 },
        { policy: 'report', subject: undefined, revision: 2 },
      ]);
    });

    it.each([
      ['not JSON', 'note:susan'],
      ['a JSON value that is not an object', '42'],
      ['no revision', '{"policy":"note"}'],
      ['a policy that is not a string', '{"policy":7,"revision":3}'],
      ['a revision that is not a number', '{"policy":"note","revision":"3"}'],
      ['a subject that is not a string', '{"policy":"note","subject":["susan"],"revision":3}'],
    ])('should flush everything on an unreadable notification: %s', async (_case, payload) => {
      await started();
      driver.current.deliver(payload);
      expect(changes).toEqual([{}]);
      expect(logs.lines).toContain('warn: unreadable policy change notification; dropping every remembered decision');
    });
  });

  describe('when the poll reads the revision', () => {
    it('should flush everything, once, when it finds a revision nobody reported (a lost notification)', async () => {
      driver.revision = 2;
      await started();
      driver.revision = 7;
      await jest.advanceTimersByTimeAsync(TIMING.pollIntervalMs);
      expect(changes).toEqual([{ revision: 7 }]);
      await jest.advanceTimersByTimeAsync(5 * TIMING.pollIntervalMs);
      expect(changes).toEqual([{ revision: 7 }]);
      // The notification that was late is covered by that flush.
      driver.notify({ policy: 'note', revision: 7 });
      expect(changes).toEqual([{ revision: 7 }]);
    });

    it('should stay quiet while every revision was reported', async () => {
      const up = await started();
      driver.notify({ policy: 'note', revision: 1 });
      // A write of this instance: reported after its commit, then notified.
      up.report({ policy: 'note', subject: 'susan', revision: 2 });
      driver.notify({ policy: 'note', subject: 'susan', revision: 2 });
      await jest.advanceTimersByTimeAsync(3 * TIMING.pollIntervalMs);
      expect(changes).toEqual([
        { policy: 'note', subject: undefined, revision: 1 },
        { policy: 'note', subject: 'susan', revision: 2 },
      ]);
    });

    it('should survive a failing poll and flush at the next one that reads an unreported revision', async () => {
      await started();
      driver.queryError = new Error('connection refused');
      driver.revision = 3;
      await jest.advanceTimersByTimeAsync(2 * TIMING.pollIntervalMs);
      expect(changes).toEqual([]);
      driver.queryError = undefined;
      await jest.advanceTimersByTimeAsync(TIMING.pollIntervalMs);
      expect(changes).toEqual([{ revision: 3 }]);
    });

    it('should not start a poll while the previous one is still waiting for the database', async () => {
      await started();
      const stalled = deferred<void>();
      driver.queryGate = stalled.promise;
      const before = driver.queries;
      await jest.advanceTimersByTimeAsync(5 * TIMING.pollIntervalMs);
      expect(driver.queries - before).toBe(1);
      driver.revision = 4;
      driver.queryGate = undefined;
      stalled.resolve();
      await settle();
      expect(changes).toEqual([{ revision: 4 }]);
    });
  });

  describe('when closed', () => {
    it('should close its connection and leave no timer: no poll, no reconnect', async () => {
      const up = await started();
      expect(jest.getTimerCount()).toBe(1);
      const listening = driver.current;
      await up.close();
      expect(listening.closed).toBe(true);
      expect(jest.getTimerCount()).toBe(0);
      const queries = driver.queries;
      driver.revision = 9;
      await jest.advanceTimersByTimeAsync(10 * TIMING.pollIntervalMs);
      expect(driver.queries).toBe(queries);
      expect(driver.listenAttempts).toHaveLength(1);
      expect(changes).toEqual([]);
      // The closed connection's end is its own doing: not a loss.
      expect(up.downSince()).toBeUndefined();
    });

    it('should cancel a pending reconnect', async () => {
      const up = await started();
      driver.current.lose();
      await settle();
      expect(jest.getTimerCount()).toBe(2);
      await up.close();
      expect(jest.getTimerCount()).toBe(0);
      await jest.advanceTimersByTimeAsync(10_000);
      expect(driver.listenAttempts).toHaveLength(1);
    });

    it('should stop reconnecting when closed while a reconnect fails', async () => {
      const up = await started();
      const refused = deferred<void>();
      driver.listenGate = refused.promise;
      driver.listenError = new Error('refused');
      driver.current.lose();
      await jest.advanceTimersByTimeAsync(100);
      expect(driver.listenAttempts).toHaveLength(2);
      await up.close();
      refused.resolve();
      await jest.advanceTimersByTimeAsync(10_000);
      expect(driver.listenAttempts).toHaveLength(2);
      expect(jest.getTimerCount()).toBe(0);
    });

    it('should close a connection that was still opening when it closed', async () => {
      const up = await started();
      const opening = deferred<void>();
      driver.listenGate = opening.promise;
      driver.current.lose();
      await jest.advanceTimersByTimeAsync(100);
      await up.close();
      opening.resolve();
      await settle();
      expect(driver.listenings).toHaveLength(2);
      expect(driver.current.closed).toBe(true);
      expect(changes).toEqual([]);
      expect(jest.getTimerCount()).toBe(0);
    });
  });
});
