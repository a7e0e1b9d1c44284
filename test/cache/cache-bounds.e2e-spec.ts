import { TestTokenIssuer } from 'nestjs-authz/testing';
import { AuthzConfigurationError, type AuthzModuleOptions } from 'nestjs-authz';
import { configFor } from './support/cache-fixture';

/** Both caches are bounded by configuration: a cap or an age that is missing, zero or infinite stops the app at start. */
describe('cache bounds in the module options', () => {
  const base: AuthzModuleOptions = { issuer: 'https://issuer.test/', audience: 'notes-api', jwks: TestTokenIssuer.create().jwks };

  it('should bound both caches by default', async () => {
    const config = await configFor(base);
    expect(config.verifiedTokenCache).toMatchObject({ maxEntries: expect.any(Number), maxAgeMs: expect.any(Number) });
    expect(config.decisionCache).toMatchObject({ maxEntries: expect.any(Number), ttlMs: expect.any(Number) });
    const limits = [config.verifiedTokenCache, config.decisionCache].flatMap((cache) => (cache ? Object.values(cache) : []));
    expect(limits.every((limit) => Number.isFinite(limit) && limit > 0)).toBe(true);
  });

  it.each([
    ['verifiedTokenCache.maxEntries', { verifiedTokenCache: { maxEntries: Number.POSITIVE_INFINITY } }],
    ['verifiedTokenCache.maxEntries', { verifiedTokenCache: { maxEntries: 0 } }],
    ['verifiedTokenCache.maxAgeMs', { verifiedTokenCache: { maxAgeMs: Number.POSITIVE_INFINITY } }],
    ['decisionCache.maxEntries', { decisionCache: { maxEntries: Number.POSITIVE_INFINITY } }],
    ['decisionCache.ttlMs', { decisionCache: { ttlMs: Number.POSITIVE_INFINITY } }],
    ['decisionCache.ttlMs', { decisionCache: { ttlMs: 0 } }],
  ] as const)('should refuse to start with an unbounded %s', async (option, overrides) => {
    const error = await configFor({ ...base, ...overrides }).then(() => undefined, (reason: unknown) => reason);
    expect(error).toBeInstanceOf(AuthzConfigurationError);
    expect((error as Error).message).toContain(`\`${option}\``);
  });
});
