/** Close code for a connection whose token is missing, bad or no longer accepted (4000-4999: for applications, RFC 6455 §7.4.2). */
export const CLOSE_UNAUTHENTICATED = 4401;

// setTimeout fires at once past 2^31 - 1 ms (about 24.8 days): longer waits are made of several.
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Calls `expire` once `until` (ms since the epoch, e.g. `TokenVerifier.acceptedUntil`) has passed; the timer does not
 * keep the process alive. Returns the function that cancels it (call it when the connection closes).
 *
 * @example
 * const cancel = atExpiry(verifier.acceptedUntil(claims), () => socket.close(CLOSE_UNAUTHENTICATED, 'Token expired'));
 */
export function atExpiry(until: number, expire: () => void): () => void {
  let timer: NodeJS.Timeout | undefined;
  const wait = () => {
    const left = until - Date.now();
    // Timers may fire a millisecond early, and long waits are done in steps.
    if (left <= 0) return expire();
    timer = setTimeout(wait, Math.min(left, MAX_TIMER_MS));
    timer.unref?.();
  };
  wait();
  return () => clearTimeout(timer);
}
