import { ADAPTERS } from '../support/app';
import { authorizationHeaderCase, rawHeaderBytes, tokenMutationCase, type FuzzCase } from './support/fuzz-cases';
import { Prng } from './support/prng';
import { rawStatus } from './support/raw-http';
import { AUDIENCE } from './support/security-app';
import { makeKey } from './support/tokens';
import { useSecurityApp } from './support/use-app';

/**
 * A bounded, seeded fuzz run over HTTP: thousands of generated Authorization headers and mutated tokens. Nothing
 * may end in anything but 400, 401 or 403 (200 only for a header that still carries a valid token unchanged), the
 * app logs no error, and it still serves a valid token afterwards. A failure names the seed and the case: the run
 * is reproducible, and other seeds explore further (`FUZZ_SEED=123 npx jest test/security/fuzz`).
 */
const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed);
// Per adapter, in batches of BATCH so that no single test runs long on a busy CI machine.
const BATCH = 500;
const HEADER_BATCHES = 3;
const TOKEN_BATCHES = 3;
const RAW_CASES = 150;
const CONCURRENCY = 16;
const REFUSALS = [400, 401, 403];
const ROUTES = ['/unannotated', '/admin', '/notes'];

const key = makeKey('fuzz-key');

describe.each(ADAPTERS)(`fuzz, seed ${SEED} (%s)`, (adapter) => {
  const ctx = useSecurityApp(adapter, [key]);
  let validTokens: string[];
  let hostileHeaders: Record<string, unknown>[];
  let hostileClaims: Record<string, unknown>[];

  beforeAll(() => {
    validTokens = Array.from({ length: 8 }, (_, i) => ctx.tokens.sign({ sub: i % 2 ? 'susan' : 'bob', scope: i % 3 ? 'notes:read' : 'notes:read admin' }));
    hostileHeaders = [
      { alg: 'none', kid: key.kid },
      { alg: 'HS256', kid: key.kid },
      { alg: 'rs256', kid: key.kid },
      { alg: 'RS256', kid: '../../etc/passwd' },
      { alg: 'RS256', kid: { $ne: null } },
      { alg: 'RS256', kid: key.kid, crit: ['x'] },
      { alg: 'RS256', kid: key.kid, jku: 'http://127.0.0.1:9/jwks', jwk: key.jwk },
      { alg: 'RS256' },
      { alg: ['RS256'], kid: key.kid },
      { alg: 'RS256', kid: 'k'.repeat(300) },
    ];
    hostileClaims = [
      ctx.tokens.claims({ sub: 'admin' }),
      ctx.tokens.claims({ aud: 'other-api' }),
      ctx.tokens.claims({ exp: undefined }),
      ctx.tokens.claims({ scope: 'admin notes:read notes:write' }),
      { iss: ctx.tokens.issuer, aud: AUDIENCE },
      [],
    ] as Record<string, unknown>[];
  });

  async function run(kind: string, seed: number, count: number, generate: (prng: Prng) => FuzzCase): Promise<number> {
    const prng = new Prng(seed);
    const cases = Array.from({ length: count }, (_, index) => ({ index, route: prng.pick(ROUTES), ...generate(prng) }));
    const failures: string[] = [];
    let passed = 0;
    for (let start = 0; start < cases.length; start += CONCURRENCY) {
      await Promise.all(
        cases.slice(start, start + CONCURRENCY).map(async ({ index, route, authorization, mayPass }) => {
          const res = await fetch(`${ctx.sa.url}${route}`, { headers: { authorization } });
          await res.arrayBuffer();
          if (res.status === 200 && mayPass) passed++;
          else if (!REFUSALS.includes(res.status)) failures.push(`${kind} case ${index} (seed ${seed}): ${res.status} for ${route} with ${JSON.stringify(authorization.slice(0, 200))}`);
        }),
      );
    }
    expect(failures).toEqual([]);
    return passed;
  }

  let headersPassed = 0;
  it.each(Array.from({ length: HEADER_BATCHES }, (_, batch) => batch))(`should refuse generated Authorization headers with 400/401/403 (batch %i of ${BATCH})`, async (batch) => {
    headersPassed += await run('header', SEED + 100 + batch, BATCH, (prng) => authorizationHeaderCase(prng, validTokens));
  });

  it('should have generated well-formed headers too, so the valid path was reached', () => {
    expect(headersPassed).toBeGreaterThan(0);
  });

  it.each(Array.from({ length: TOKEN_BATCHES }, (_, batch) => batch))(`should refuse mutated tokens with 400/401/403 (batch %i of ${BATCH})`, async (batch) => {
    await run('token', SEED + 200 + batch, BATCH, (prng) => tokenMutationCase(prng, validTokens, hostileHeaders, hostileClaims));
  });

  it(`should answer ${RAW_CASES} headers of raw bytes with 400/401/403 (from the app or from Node's parser)`, async () => {
    const prng = new Prng(SEED + 300);
    const failures: string[] = [];
    for (let index = 0; index < RAW_CASES; index++) {
      const value = rawHeaderBytes(prng);
      const bytes = Buffer.concat([Buffer.from('GET /unannotated HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: '), value, Buffer.from('\r\nConnection: close\r\n\r\n')]);
      const status = await rawStatus(ctx.sa.url, bytes);
      if (!REFUSALS.includes(status)) failures.push(`raw case ${index} (seed ${SEED + 300}): ${status} for ${value.toString('hex')}`);
    }
    expect(failures).toEqual([]);
  });

  it('should have logged no error and still serve a valid token', async () => {
    expect(ctx.sa.logger.at('error')).toEqual([]);
    const res = await fetch(`${ctx.sa.url}/notes`, { headers: { authorization: `Bearer ${ctx.tokens.sign()}` } });
    expect(res.status).toBe(200);
  });
});
