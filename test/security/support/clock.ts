/**
 * Real time plus an offset the test moves forward: KeySet and TokenVerifier take it as their `now`, so cooldowns
 * and key-set ages pass without sleeping, while the network (timeouts) still runs on real time.
 */
export class TestClock {
  private offsetMs = 0;

  readonly now = (): number => Date.now() + this.offsetMs;

  advance(ms: number): void {
    this.offsetMs += ms;
  }

  nowSeconds(): number {
    return Math.floor(this.now() / 1000);
  }
}
