import { InvalidTokenException } from 'nestjs-authz';

/** Expects `promise` to reject with an InvalidTokenException (401 invalid_token) carrying exactly `description`. */
export async function expectRefusal(promise: Promise<unknown>, description: string): Promise<void> {
  const error = await promise.then(() => undefined, (reason: unknown) => reason);
  expect(error).toBeInstanceOf(InvalidTokenException);
  expect((error as InvalidTokenException).description).toBe(description);
}
