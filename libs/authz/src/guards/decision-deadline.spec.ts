import { DecisionDeadline } from './decision-deadline';

const never = () => new Promise<boolean>(() => undefined);
const timeout = () => new Error('no answer in time');

describe('DecisionDeadline', () => {
  it('should pass a decision through when it settles in time, value or error', async () => {
    const deadline = new DecisionDeadline(1_000);
    await expect(deadline.race(Promise.resolve(true), timeout)).resolves.toBe(true);
    await expect(deadline.race(Promise.reject(new Error('store down')), timeout)).rejects.toThrow('store down');
  });

  it('should fail every decision that outlives the timeout, and only those', async () => {
    const deadline = new DecisionDeadline(20);
    const started = Date.now();
    const slow = [deadline.race(never(), timeout), deadline.race(never(), timeout), deadline.race(never(), timeout)];
    const fast = deadline.race(Promise.resolve(true), timeout);
    await expect(fast).resolves.toBe(true);
    for (const decision of slow) await expect(decision).rejects.toThrow('no answer in time');
    expect(Date.now() - started).toBeGreaterThanOrEqual(19);
  });

  it('should time out a decision made after an earlier one settled', async () => {
    const deadline = new DecisionDeadline(20);
    await deadline.race(Promise.resolve(true), timeout);
    await expect(deadline.race(never(), timeout)).rejects.toThrow('no answer in time');
  });
});
