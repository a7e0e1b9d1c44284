import { Logger } from '@nestjs/common';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { PgDriver, PostgresPolicyStore, type PolicyEdit } from 'nestjs-authz';
import { CaptureLogger } from '../security/support/capture-logger';
import { TEST_DATABASE_URL } from '../support/postgres';
import { TcpProxy } from '../support/tcp-proxy';
import { FeedInstance, notePolicy, requestUntil, timed, type Answer } from './support/feed-instance';
import { freshSchema, isFlush, nextChange, openServerStore, ServerControl, until } from './support/server';

/** How long a reconnect, a flush or a TCP event may take before the test fails (they take milliseconds). */
const EVENT_TIMEOUT_MS = 3_000;
/** Date.now() (the decision cache's clock) against performance.now() (the test's): a few ms apart at most. */
const CLOCK_SLACK_MS = 25;
/** The revision poll never fires in these tests: only the listener (or its absence) explains what they see. */
const POLL_MS = 3_600_000;
/** Quick reconnects, so that a restored listener is back within a fraction of a second. */
const RECONNECT = { minMs: 50, maxMs: 200 };

// Above the deadlines inside the tests, so that a deadline, which says what did not happen, fails first.
jest.setTimeout(10_000);

const ACTOR = 'feed-e2e';
let subjects = 0;
/** A subject no instance has a decision about: a cold cache. */
const freshSubject = () => `subject-${process.pid}-${++subjects}`;
const grant = (subject: string): PolicyEdit => ({ kind: 'grant-permission', policy: 'note', subject, permission: 'CanRead' });
const revoke = (subject: string): PolicyEdit => ({ kind: 'revoke-permission', policy: 'note', subject, permission: 'CanRead' });

/** The answers are 200 only while the one decision read before the outage may still be believed: ttlMs from its read. */
function expectNothingBelievedBeyond(answers: readonly Answer[], readBy: number, ttlMs: number): void {
  for (const answer of answers.filter((each) => each.status === 200)) expect(answer.sentAt).toBeLessThan(readBy + ttlMs + CLOCK_SLACK_MS);
}

// The proxy's faults are what the server suites below rely on: shown here against a plain TCP echo server.
describe('TcpProxy', () => {
  let echo: Server;
  let proxy: TcpProxy;
  const open = new Set<Socket>();
  let serverReceived = '';

  beforeAll(async () => {
    echo = createServer((socket) => {
      open.add(socket);
      socket.on('close', () => open.delete(socket));
      socket.on('error', () => undefined);
      socket.on('data', (chunk) => (serverReceived += chunk.toString()));
      socket.pipe(socket);
    });
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    proxy = await TcpProxy.start({ host: '127.0.0.1', port: (echo.address() as AddressInfo).port });
  });

  afterAll(async () => {
    await proxy.close();
    for (const socket of open) socket.destroy();
    await new Promise<void>((resolve) => echo.close(() => resolve()));
  });

  function client(): Promise<{ socket: Socket; received: () => string; ended: Promise<string> }> {
    return new Promise((resolve, reject) => {
      const socket = connect(proxy.port, '127.0.0.1');
      let data = '';
      socket.on('data', (chunk) => (data += chunk.toString()));
      const ended = new Promise<string>((settle) => {
        socket.on('error', (error: NodeJS.ErrnoException) => settle(error.code ?? error.message));
        socket.on('close', () => settle('closed'));
      });
      socket.once('connect', () => resolve({ socket, received: () => data, ended }));
      socket.once('error', reject);
    });
  }

  const echoed = async (c: { received: () => string }, text: string) => until(() => c.received().endsWith(text), EVENT_TIMEOUT_MS, `echo of ${text}`);

  it('should forward, hold everything while stalled and deliver it in order on restore', async () => {
    const c = await client();
    c.socket.write('one;');
    await echoed(c, 'one;');
    proxy.stall();
    c.socket.write('two;');
    await until(() => proxy.heldBytes === 'two;'.length, EVENT_TIMEOUT_MS, 'the proxy holding the bytes');
    expect(serverReceived).toBe('one;');
    expect(c.received()).toBe('one;');
    proxy.restore();
    c.socket.write('three;');
    await echoed(c, 'three;');
    expect(c.received()).toBe('one;two;three;');
    expect(proxy.heldBytes).toBe(0);
    c.socket.destroy();
  });

  it('should reset open connections on cut, refuse new ones until restored, then forward again', async () => {
    const c = await client();
    proxy.cut();
    expect(await c.ended).toBe('ECONNRESET');
    const refused = connect(proxy.port, '127.0.0.1');
    expect(await new Promise((resolve) => refused.on('error', (error: NodeJS.ErrnoException) => resolve(error.code)))).toBe('ECONNRESET');
    proxy.restore();
    const again = await client();
    again.socket.write('back;');
    await echoed(again, 'back;');
    again.socket.destroy();
  });
});

if (TEST_DATABASE_URL) {
  describe('on a PostgreSQL server', () => {
    let control: ServerControl;
    let schema: string;
    /** Another instance's store: writes that the store under test hears of only through its change feed. */
    let writer: PostgresPolicyStore;
    let proxy: TcpProxy;
    const edit = (...edits: PolicyEdit[]) => writer.edit(edits, { actor: ACTOR });

    beforeAll(async () => {
      control = await ServerControl.connect();
      schema = freshSchema('faults');
      writer = await openServerStore(schema, { pollIntervalMs: POLL_MS });
      await edit({ kind: 'put-policy', policy: 'note', document: notePolicy });
      proxy = await TcpProxy.forDatabaseUrl(TEST_DATABASE_URL!);
    });

    afterAll(async () => {
      await writer?.close();
      await proxy?.close();
      await control?.dropSchema(schema);
      await control?.close();
    });

    afterEach(() => proxy.restore());

    /**
     * Opens a store (directly, or through the proxy) and finds its listener's backend pid: the listeners on this
     * suite's schema before and after it opened (each listener's statement names the schema's channel, so other
     * suites on the server are never involved).
     */
    async function openWatched(options: { throughProxy: boolean }): Promise<{ store: PostgresPolicyStore; listenerPid: number }> {
      const before = await control.listenerPids(schema);
      const url = options.throughProxy ? proxy.rewrite(TEST_DATABASE_URL!) : TEST_DATABASE_URL!;
      // The pool keeps idle connections (no idle timeout): the proxy's `refuse()` then stops the listener only.
      const driver = await PgDriver.connect({ connectionString: url, idleTimeoutMillis: 0 });
      const store = await PostgresPolicyStore.open({ driver, schema, pollIntervalMs: POLL_MS, reconnect: RECONNECT });
      const added = (await control.listenerPids(schema)).filter((pid) => !before.includes(pid));
      expect(added).toHaveLength(1);
      return { store, listenerPid: added[0] };
    }

    /** The store's revision, read by the server control. */
    async function storeRevision(): Promise<number> {
      return Number((await control.query<{ value: string }>(`SELECT value FROM ${schema}.revision`))[0].value);
    }

    /** Kills the listener's backend and waits until the store knows its feed is down; returns since when, by its clock. */
    async function killListener(store: PostgresPolicyStore, pid: number): Promise<number> {
      const killedAt = Date.now();
      expect(await control.terminate([pid])).toEqual([pid]);
      await until(() => store.feedDownSince() !== undefined, EVENT_TIMEOUT_MS, 'feedDownSince() after the listener was killed');
      const downSince = store.feedDownSince()!;
      expect(downSince).toBeGreaterThanOrEqual(killedAt);
      return downSince;
    }

    describe('when a store\'s listener is killed (pg_terminate_backend)', () => {
      it('should report the feed down, reconnect by itself, flush everything and hear changes again', async () => {
        const logs = new CaptureLogger();
        Logger.overrideLogger(logs);
        const { store, listenerPid } = await openWatched({ throughProxy: false });
        try {
          expect(store.feedDownSince()).toBeUndefined();
          const flushed = nextChange(store, isFlush, EVENT_TIMEOUT_MS, 'the flush after the reconnect');
          const downSince = await killListener(store, listenerPid);
          const { change } = await flushed;
          // A full flush: no policy, the revision read once listening again.
          expect(change).toEqual({ revision: await storeRevision() });
          expect(store.feedDownSince()).toBeUndefined();
          // Not before the backoff's first delay: the feed waits rather than hammering a server that just failed.
          expect(Date.now() - downSince).toBeGreaterThanOrEqual(RECONNECT.minMs - CLOCK_SLACK_MS);
          // A new backend listens: the old one is gone.
          const listening = await control.listenerPids(schema);
          expect(listening).not.toContain(listenerPid);
          // What an operator reads: the loss with its cause, and the flush.
          expect(logs.at('warn').map((entry) => entry.text)).toContainEqual(expect.stringContaining('the policy change listener lost its connection (terminating connection due to administrator command); reconnecting'));
          expect(logs.at('log').map((entry) => entry.text)).toContainEqual(expect.stringContaining('listening for policy changes again; dropping every remembered decision'));

          // And it hears other instances' changes again, through NOTIFY.
          const subject = freshSubject();
          const heard = nextChange(store, (each) => each.subject === subject, EVENT_TIMEOUT_MS, 'a change after the reconnect');
          const { revision } = await edit(grant(subject));
          expect((await heard).change).toEqual({ policy: 'note', subject, revision });
        } finally {
          await store.close();
          Logger.overrideLogger(false);
        }
      });

      it('should not serve a change made while it was down once it reconnects: the reconnect flushes everything', async () => {
        const { store, listenerPid } = await openWatched({ throughProxy: true });
        // A TTL far beyond the test: only the flush can make this instance forget.
        const instance = await FeedInstance.start('instance behind the proxy', { adapter: 'fastify', store, ttlMs: 60_000 });
        try {
          const subject = freshSubject();
          await edit(grant(subject));
          await instance.read(subject).expect(200);

          // The listener dies and cannot come back (new connections refused; the pool's open ones still work).
          proxy.refuse();
          await killListener(store, listenerPid);
          await edit(revoke(subject));
          // The revoke was committed while the listener was away, so its NOTIFY is lost for this instance...
          expect(store.feedDownSince()).toBeDefined();
          // ...which still believes its remembered decision (within the TTL, as promised).
          await instance.read(subject).expect(200);

          const flushed = nextChange(store, isFlush, EVENT_TIMEOUT_MS, 'the flush after the reconnect');
          proxy.restore();
          await flushed;
          expect(store.feedDownSince()).toBeUndefined();
          await instance.read(subject).expect(403);
        } finally {
          await instance.close();
        }
      });

      it('should believe nothing longer than the TTL while down, and remember nothing once down longer than the TTL', async () => {
        const ttlMs = 300;
        const { store, listenerPid } = await openWatched({ throughProxy: true });
        const instance = await FeedInstance.start('instance behind the proxy', { adapter: 'express', store, ttlMs });
        try {
          const subject = freshSubject();
          await edit(grant(subject));
          const warm = await timed(() => instance.read(subject));
          expect(warm.status).toBe(200);
          // The remembered answer was read before `warm` was answered: believed until then + ttlMs at the latest.
          const readBy = warm.answeredAt;

          proxy.refuse();
          const downSince = await killListener(store, listenerPid);
          await edit(revoke(subject));
          const answers = await requestUntil(() => instance.read(subject), 403, [200], ttlMs + EVENT_TIMEOUT_MS, 'the revoke while the feed is down');
          expectNothingBelievedBeyond(answers, readBy, ttlMs);
          // Still down: the TTL ended that belief, not a reconnect.
          expect(store.feedDownSince()).toBe(downSince);

          // Decisions read from now on are read while the feed has been down for longer than the TTL (and the ones
          // read before have expired by then): each request asks the store, and nothing is remembered.
          const untilUncached = downSince + 2 * ttlMs + CLOCK_SLACK_MS;
          while (Date.now() < untilUncached) await instance.read(subject).expect(403);
          await edit(grant(subject));
          // The grant is not notified either; an instance that still remembered its last 403 would refuse.
          await instance.read(subject).expect(200);
          expect(store.feedDownSince()).toBe(downSince);

          const flushed = nextChange(store, isFlush, EVENT_TIMEOUT_MS, 'the flush after the reconnect');
          proxy.restore();
          await flushed;
          expect(store.feedDownSince()).toBeUndefined();
        } finally {
          await instance.close();
        }
      });
    });

    describe('when the database is down or slow at decision time', () => {
      const ttlMs = 300;
      const policyTimeoutMs = 300;
      let instance: FeedInstance;

      beforeAll(async () => {
        const store = await openServerStore(schema, { url: proxy.rewrite(TEST_DATABASE_URL!), pollIntervalMs: POLL_MS, reconnect: RECONNECT });
        instance = await FeedInstance.start('instance behind the proxy', { adapter: 'fastify', store, ttlMs, policyTimeoutMs });
      });

      afterAll(async () => {
        proxy.restore();
        await instance?.close();
      });

      /** Restores the proxy and waits until the instance's listener is back (its flush), so tests start equal. */
      async function restore(): Promise<void> {
        const flushed = instance.store.feedDownSince() === undefined ? undefined : nextChange(instance.store, isFlush, EVENT_TIMEOUT_MS, 'the flush after the restore');
        proxy.restore();
        await flushed;
      }

      /** Expects the guard's refusal for a policy it could not evaluate. */
      function expectUnavailable(res: { status: number; headers: Record<string, string>; body: unknown }): void {
        expect(res.status).toBe(503);
        expect(res.headers['retry-after']).toBe('5');
        expect(res.body).toEqual({ statusCode: 503, error: 'Service Unavailable', message: "Policy 'note' could not be evaluated; try again later" });
      }

      it('should answer 503 with Retry-After while the database is cut, keep answering, and 200 again by itself once it is back', async () => {
        const subject = freshSubject();
        await edit(grant(subject));
        proxy.cut();
        for (let attempt = 0; attempt < 5; attempt++) expectUnavailable(await instance.read(subject));
        // The app itself still answers.
        await instance.ping().expect(200);
        await until(() => instance.store.feedDownSince() !== undefined, EVENT_TIMEOUT_MS, 'feedDownSince() after the cut');

        const flushed = nextChange(instance.store, isFlush, EVENT_TIMEOUT_MS, 'the flush after the restore');
        proxy.restore();
        // The pool opens new connections by itself: the very next request is answered.
        await instance.read(subject).expect(200);
        await flushed;
      });

      it('should answer 503 within about policyTimeoutMs while the database stalls, and 200 again once it answers', async () => {
        const subject = freshSubject();
        await edit(grant(subject));
        proxy.stall();
        for (let attempt = 0; attempt < 2; attempt++) {
          const answer = await timed(() => instance.read(subject));
          expect(answer.status).toBe(503);
          expect(answer.retryAfter).toBe('5');
          const took = answer.answeredAt - answer.sentAt;
          expect(took).toBeGreaterThanOrEqual(policyTimeoutMs - CLOCK_SLACK_MS);
          expect(took).toBeLessThan(policyTimeoutMs + 700);
        }
        await instance.ping().expect(200);
        await restore();
        await requestUntil(() => instance.read(subject), 200, [503], EVENT_TIMEOUT_MS, 'the first decision once the database answers again');
      });

      it.each([
        ['cut', () => proxy.cut()],
        ['stalled', () => proxy.stall()],
      ])('should never serve a cached decision beyond the TTL while the database is %s', async (_fault, fault) => {
        const subject = freshSubject();
        await edit(grant(subject));
        const warm = await timed(() => instance.read(subject));
        expect(warm.status).toBe(200);
        fault();
        const answers = await requestUntil(() => instance.read(subject), 503, [200], ttlMs + EVENT_TIMEOUT_MS, 'the first refusal once the remembered decision expired');
        expectNothingBelievedBeyond(answers, warm.answeredAt, ttlMs);
        for (let attempt = 0; attempt < 3; attempt++) expect((await timed(() => instance.read(subject))).status).toBe(503);
        await restore();
        await requestUntil(() => instance.read(subject), 200, [503], EVENT_TIMEOUT_MS, 'the first decision once the database is back');
      });
    });
  });
}
