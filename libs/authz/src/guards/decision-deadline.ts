interface Pending {
  readonly at: number;
  readonly fail: () => void;
}

/**
 * Fails PolicyService decisions that take longer than `timeoutMs`, with one timer for all pending decisions
 * instead of a setTimeout/clearTimeout pair per request. Every decision gets the same timeout, so deadlines
 * arrive in insertion order and the first pending one is always the earliest. Times are monotonic, so a wall-clock
 * step neither delays nor hastens a deadline.
 */
export class DecisionDeadline {
  private readonly pending = new Set<Pending>();
  private timer?: NodeJS.Timeout;

  constructor(private readonly timeoutMs: number) {}

  /**
   * Settles like `decision`, or rejects with `timeoutError()` once `timeoutMs` has passed, aborting `controller`
   * (whose signal the decision was given) so that the work behind it stops too.
   */
  race<T>(decision: Promise<T>, timeoutError: () => Error, controller?: AbortController): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const fail = () => {
        const error = timeoutError();
        controller?.abort(error);
        reject(error);
      };
      const entry: Pending = { at: performance.now() + this.timeoutMs, fail };
      this.pending.add(entry);
      if (!this.timer) this.arm();
      decision.then(
        (value) => {
          this.pending.delete(entry);
          resolve(value);
        },
        (error: unknown) => {
          this.pending.delete(entry);
          reject(error);
        },
      );
    });
  }

  private arm(): void {
    const first = this.pending.values().next().value;
    if (!first) return;
    this.timer = setTimeout(() => this.sweep(), Math.max(0, first.at - performance.now()));
    // A pending deadline is no reason to keep the process alive.
    this.timer.unref();
  }

  private sweep(): void {
    this.timer = undefined;
    const now = performance.now();
    for (const entry of this.pending) {
      if (entry.at > now) break;
      this.pending.delete(entry);
      entry.fail();
    }
    this.arm();
  }
}
