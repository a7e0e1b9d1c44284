import { InvalidTokenException, withoutStack } from './authz.exceptions';

describe('withoutStack', () => {
  it('should create the refusal with its status and message but no stack frames', () => {
    const refusal = withoutStack(() => new InvalidTokenException('The token has expired'));
    expect(refusal).toBeInstanceOf(InvalidTokenException);
    expect(refusal.getStatus()).toBe(401);
    expect(refusal.description).toBe('The token has expired');
    expect(refusal.stack).not.toContain('    at ');
    expect(new InvalidTokenException('with a stack').stack).toContain('    at ');
  });

  it('should restore the stack trace limit, also when creating the refusal throws', () => {
    const limit = Error.stackTraceLimit;
    expect(() =>
      withoutStack(() => {
        throw new Error('broken');
      }),
    ).toThrow('broken');
    expect(Error.stackTraceLimit).toBe(limit);
  });
});
