import { Logger } from '@nestjs/common';
import type { PolicyChange } from '../policy-store';
import type { Listening, SqlDriver } from './sql-driver';

/** How the feed keeps up: backoff between reconnects, and how often it polls the revision as a backstop. */
export interface ChangeFeedTiming {
  readonly pollIntervalMs: number;
  readonly reconnectMinMs: number;
  readonly reconnectMaxMs: number;
}

/**
 * The one owner of the store's LISTEN connection. It turns notifications (ids and revision only) into changes,
 * reconnects with backoff when the connection is lost, and reports a full flush (a change without a policy) on every reconnect, since
 * notifications sent while it was away are gone. A poll of the revision row catches what LISTEN missed without
 * noticing (a silently dead connection): a revision it has not heard of flushes everything.
 */
export class ChangeFeed {
  private readonly logger = new Logger('AuthzChangeFeed');
  private listening?: Listening;
  private downAt?: number;
  /** Highest revision heard on the listener or covered by a flush. */
  private heard = 0;
  /**
   * This instance's own writes, reported right after their commit and before their NOTIFY came back. Kept apart
   * from `heard`: another instance's earlier revision may still be on its way and must not be taken as seen.
   */
  private readonly early = new Set<number>();
  private closed = false;
  private retryTimer?: NodeJS.Timeout;
  private readonly pollTimer: NodeJS.Timeout;
  private polling = false;

  constructor(
    private readonly driver: SqlDriver,
    private readonly channel: string,
    private readonly readRevision: () => Promise<number>,
    private readonly timing: ChangeFeedTiming,
    private readonly emit: (change: PolicyChange) => void,
  ) {
    this.pollTimer = setInterval(() => void this.poll(), timing.pollIntervalMs);
    this.pollTimer.unref();
  }

  /** Connects the listener; throws when the first connection fails (the store does not start). */
  async start(): Promise<void> {
    await this.connect();
  }

  /** Since when the listener is down, or `undefined` while it listens. */
  downSince(): number | undefined {
    return this.downAt;
  }

  /**
   * Reports a write of this instance right after its commit; its own NOTIFY, when it arrives, is then not reported
   * again. Each change reaches the listeners once.
   */
  report(change: PolicyChange & { readonly revision: number }): void {
    if (change.revision <= this.heard || this.early.has(change.revision)) return;
    this.early.add(change.revision);
    this.emit(change);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.pollTimer);
    clearTimeout(this.retryTimer);
    await this.listening?.close();
  }

  private async connect(): Promise<void> {
    const listening = await this.driver.listen(this.channel, (payload) => this.onNotification(payload));
    if (this.closed) return void (await listening.close());
    this.listening = listening;
    // Read after LISTEN holds: a change committed from now on is either notified or already in this revision.
    const revision = await this.readRevision().catch(() => this.heard);
    if (this.closed) return;
    this.cover(revision);
    const wasDown = this.downAt !== undefined;
    this.downAt = undefined;
    if (wasDown) {
      this.logger.log('listening for policy changes again; dropping every remembered decision');
      this.emit({ revision });
    }
    void listening.lost.then((error) => this.onLost(listening, error));
  }

  private onLost(listening: Listening, error: Error | undefined): void {
    if (this.closed || this.listening !== listening) return;
    this.listening = undefined;
    this.downAt = Date.now();
    this.logger.warn(`the policy change listener lost its connection${error ? ` (${error.message})` : ''}; reconnecting`);
    this.retry(this.timing.reconnectMinMs);
  }

  private retry(delayMs: number): void {
    if (this.closed) return;
    this.retryTimer = setTimeout(() => {
      this.connect().catch((error: Error) => {
        this.logger.warn(`the policy change listener could not reconnect (${error.message}); next try in ${Math.min(delayMs * 2, this.timing.reconnectMaxMs)} ms`);
        this.retry(Math.min(delayMs * 2, this.timing.reconnectMaxMs));
      });
    }, delayMs);
    this.retryTimer.unref();
  }

  private onNotification(payload: string): void {
    const change = parseChange(payload);
    if (!change) {
      this.logger.warn('unreadable policy change notification; dropping every remembered decision');
      return this.emit({});
    }
    if (change.revision <= this.heard) return;
    this.heard = change.revision;
    if (this.early.delete(change.revision)) return;
    this.emit(change);
  }

  /** Everything up to `revision` is accounted for (read after a (re)connect, or flushed by the poll). */
  private cover(revision: number): void {
    if (revision > this.heard) this.heard = revision;
    for (const own of this.early) if (own <= this.heard) this.early.delete(own);
  }

  private async poll(): Promise<void> {
    if (this.polling || this.closed) return;
    this.polling = true;
    try {
      // A revision nobody reported: a notification was lost, so anything may have changed.
      const revision = await this.readRevision();
      if (revision > this.heard) {
        this.cover(revision);
        this.emit({ revision });
      }
    } catch {
      // The database is unreachable: decisions fail with 503 on their own; the next poll tries again.
    } finally {
      this.polling = false;
    }
  }
}

/** A notification's payload: `{ "policy", "subject"?, "resource"?, "revision" }`, ids only (NOTIFY payloads stop at 8000 bytes). */
export function changePayload(change: Required<Pick<PolicyChange, 'policy' | 'revision'>> & Pick<PolicyChange, 'subject' | 'resource'>): string {
  return JSON.stringify(change);
}

function parseChange(payload: string): (PolicyChange & { revision: number }) | undefined {
  try {
    const value = JSON.parse(payload) as Record<string, unknown>;
    if (typeof value.policy !== 'string' || typeof value.revision !== 'number') return undefined;
    if (value.subject !== undefined && typeof value.subject !== 'string') return undefined;
    if (value.resource !== undefined && typeof value.resource !== 'string') return undefined;
    return { policy: value.policy, subject: value.subject as string | undefined, resource: value.resource as string | undefined, revision: value.revision as number };
  } catch {
    return undefined;
  }
}
