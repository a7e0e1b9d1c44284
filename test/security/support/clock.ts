/**
 * A clock that moves only when the test says so (starting at the real time, so tokens minted with it look current):
 * KeySet and TokenVerifier take it as their `now`, so cooldowns and key-set ages pass without sleeping and without
 * depending on how fast the machine is. Network timeouts still run on real time, with small configured values.
 */
export class TestClock {
  private current = Date.now();

  readonly now = (): number => this.current;

  advance(ms: number): void {
    this.current += ms;
  }

  nowSeconds(): number {
    return Math.floor(this.current / 1000);
  }
}
