import { ADAPTERS } from '../support/app';
import { challenge, KEYS_UNAVAILABLE, Refusal } from './support/challenge';
import { TestClock } from './support/clock';
import { JwksServer } from '../support/jwks-server';
import { makeKey } from './support/tokens';
import { useSecurityApp } from './support/use-app';

/**
 * JWKS robustness over HTTP against a provider the test controls: fetch timeouts, rotation, kid floods, outages,
 * key removal. KeySet and TokenVerifier run on a {@link TestClock}, so cooldowns and key-set ages pass without
 * sleeping; only network timeouts run on real time, with small configured values.
 */
const key1 = makeKey('key-1');
const key2 = makeKey('key-2');

describe.each(ADAPTERS)('JWKS (%s)', (adapter) => {
  describe('fetch timeout', () => {
    const jwksTimeoutMs = 200;
    // One attempt (discovery and download together) ends within jwksTimeoutMs; the rest is loopback request handling.
    const bound = jwksTimeoutMs + 1_500;
    // No cooldown, so that each case makes its own attempt.
    const ctx = useSecurityApp(adapter, [key1], { jwksUri: undefined, jwksTimeoutMs, jwksCooldownMs: 0 });

    afterEach(() => {
      ctx.provider.jwksMode = 'ok';
      ctx.provider.discoveryMode = 'ok';
    });

    it.each([
      ['the discovery document', 'discoveryMode'],
      ['the JWKS', 'jwksMode'],
    ] as const)('should answer 503 with Retry-After within the bound when %s hangs', async (_case, endpoint) => {
      ctx.provider[endpoint] = 'hang';
      const started = performance.now();
      const res = await ctx.withToken(ctx.tokens.sign());
      const elapsed = performance.now() - started;
      expect(res.status).toBe(503);
      expect(res.body.message).toBe(KEYS_UNAVAILABLE);
      expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(elapsed).toBeGreaterThanOrEqual(jwksTimeoutMs - 5);
      expect(elapsed).toBeLessThan(bound);
      expect(ctx.sa.logger.at('error').map((entry) => entry.text).join('\n')).toContain(`took longer than ${jwksTimeoutMs} ms`);
    });
  });

  describe('concurrent first requests', () => {
    const ctx = useSecurityApp(adapter, [key1]);

    it('should share one download and answer all of them (no 503 while the first download runs)', async () => {
      const answers = await Promise.all(Array.from({ length: 10 }, () => ctx.withToken(ctx.tokens.sign())));
      expect(answers.map((res) => res.status)).toEqual(Array(10).fill(200));
      expect(ctx.provider.jwksRequests).toBe(1);
    });
  });

  describe('rotation', () => {
    const clock = new TestClock();
    const jwksCooldownMs = 10_000;
    const ctx = useSecurityApp(adapter, [key1], { jwksCooldownMs }, { clock });

    it('should pick up a new kid without restart, no later than one cooldown after the last download', async () => {
      await ctx.withToken(ctx.tokens.sign()).expect(200);
      expect(ctx.provider.jwksRequests).toBe(1);

      ctx.provider.keys = [key1.jwk, key2.jwk];
      // Inside the cooldown the new kid is not looked up yet: the price of bounding downloads.
      await ctx.expectInvalidToken(ctx.tokens.sign({}, {}, key2), Refusal.noKey);
      expect(ctx.provider.jwksRequests).toBe(1);

      clock.advance(jwksCooldownMs);
      await ctx.withToken(ctx.tokens.sign({}, {}, key2)).expect(200);
      expect(ctx.provider.jwksRequests).toBe(2);
      // The old key is still published and still works.
      await ctx.withToken(ctx.tokens.sign()).expect(200);
    });

    it('should find a key rotated in after a quiet period on its first request', async () => {
      clock.advance(jwksCooldownMs);
      const key3 = makeKey('key-3');
      ctx.provider.keys = [key2.jwk, key3.jwk];
      await ctx.withToken(ctx.tokens.sign({}, {}, key3)).expect(200);
    });
  });

  describe('kid flood', () => {
    const clock = new TestClock();
    const jwksCooldownMs = 10_000;
    const ctx = useSecurityApp(adapter, [key1], { jwksCooldownMs }, { clock });

    it('should cost at most one download per cooldown over a simulated minute, and not lock out a rotated key for longer than the cooldown', async () => {
      await ctx.withToken(ctx.tokens.sign()).expect(200);
      const downloadsBefore = ctx.provider.jwksRequests;
      const stepMs = 1_000;
      const steps = 60;
      const rotateAtStep = 20;
      let firstSuccessStep: number | undefined;

      for (let step = 1; step <= steps; step++) {
        clock.advance(stepMs);
        if (step === rotateAtStep) ctx.provider.keys = [key1.jwk, key2.jwk];
        const flood = await Promise.all(Array.from({ length: 5 }, (_, i) => ctx.withToken(ctx.tokens.sign({}, { kid: `flood-${step}-${i}` }))));
        for (const res of flood) expect(res.headers['www-authenticate']).toBe(challenge.invalidToken(Refusal.noKey));
        if (step >= rotateAtStep && firstSuccessStep === undefined) {
          const res = await ctx.withToken(ctx.tokens.sign({}, {}, key2));
          if (res.status === 200) firstSuccessStep = step;
          else expect(res.headers['www-authenticate']).toBe(challenge.invalidToken(Refusal.noKey));
        }
      }

      // 300 random kids in 60 s: at most one download per cooldown (plus the one the first step may start).
      expect(ctx.provider.jwksRequests - downloadsBefore).toBeLessThanOrEqual(Math.floor((steps * stepMs) / jwksCooldownMs) + 1);
      expect(firstSuccessStep).toBeDefined();
      expect((firstSuccessStep! - rotateAtStep) * stepMs).toBeLessThanOrEqual(jwksCooldownMs);
    });
  });

  describe('provider outage', () => {
    const clock = new TestClock();
    const jwksCooldownMs = 1_000;
    const jwksMaxAgeMs = 60_000;
    const jwksTimeoutMs = 1_000;
    const ctx = useSecurityApp(adapter, [key1], { jwksCooldownMs, jwksMaxAgeMs, jwksTimeoutMs }, { clock });

    it('should keep known keys working, answer 503 with Retry-After for an unknown key, and recover', async () => {
      await ctx.withToken(ctx.tokens.sign()).expect(200);
      ctx.provider.jwksMode = 'unavailable';

      await ctx.withToken(ctx.tokens.sign()).expect(200);

      clock.advance(jwksCooldownMs);
      const downloads = ctx.provider.jwksRequests;
      const res = await ctx.withToken(ctx.tokens.sign({}, {}, key2)).expect(503);
      expect(res.headers['retry-after']).toBe('1');
      expect(res.headers['www-authenticate']).toBeUndefined();
      expect(res.body).toMatchObject({ statusCode: 503, message: KEYS_UNAVAILABLE });
      expect(ctx.provider.jwksRequests).toBe(downloads + 1);
      // Within the cooldown, another unknown key costs no download.
      await ctx.withToken(ctx.tokens.sign({}, {}, key2)).expect(503);
      expect(ctx.provider.jwksRequests).toBe(downloads + 1);
      expect(ctx.sa.logger.at('error').map((entry) => entry.text).join('\n')).toContain('answered 503. Known keys stay in use.');

      // Past the key set's max age and still down: the background refresh fails, known keys stay.
      clock.advance(jwksMaxAgeMs);
      await ctx.withToken(ctx.tokens.sign()).expect(200);
      await ctx.sa.keySet.whenIdle();
      await ctx.withToken(ctx.tokens.sign()).expect(200);

      // Hanging instead of failing changes nothing for known keys.
      ctx.provider.jwksMode = 'hang';
      clock.advance(jwksCooldownMs);
      const started = performance.now();
      await ctx.withToken(ctx.tokens.sign()).expect(200);
      // The request did not wait for the hanging download, which ends only at jwksTimeoutMs.
      expect(performance.now() - started).toBeLessThan(jwksTimeoutMs);
      await ctx.sa.keySet.whenIdle();

      ctx.provider.jwksMode = 'ok';
      ctx.provider.keys = [key1.jwk, key2.jwk];
      clock.advance(jwksCooldownMs);
      await ctx.withToken(ctx.tokens.sign({}, {}, key2)).expect(200);
    });
  });

  describe('recovery after an outage (backoff)', () => {
    const clock = new TestClock();
    // The default cooldown: without the backoff, recovery would wait 30 s after the last failed attempt.
    const ctx = useSecurityApp(adapter, [key1], { jwksTimeoutMs: 1_000 }, { clock });

    it('should answer a flood with 503s and one download per backoff step, and serve a new real kid within 2 s of the provider coming back', async () => {
      await ctx.withToken(ctx.tokens.sign()).expect(200);
      ctx.provider.jwksMode = 'unavailable';
      clock.advance(30_000);
      const flood = (tag: string) => Promise.all(Array.from({ length: 20 }, (_, i) => ctx.withToken(ctx.tokens.sign({}, { kid: `flood-${tag}-${i}` }))));

      let downloads = ctx.provider.jwksRequests;
      // Down: every unknown kid gets 503 with Retry-After, known keys keep working, one download for the whole flood.
      for (const res of await flood('a')) {
        expect(res.status).toBe(503);
        expect(res.headers['retry-after']).toBe('1');
      }
      expect(ctx.provider.jwksRequests).toBe(downloads + 1);
      await ctx.withToken(ctx.tokens.sign()).expect(200);
      for (const res of await flood('b')) expect(res.status).toBe(503);
      expect(ctx.provider.jwksRequests).toBe(downloads + 1);

      // One backoff step (1 s) later: one more attempt, failing; the next step is 2 s.
      clock.advance(1_000);
      for (const res of await flood('c')) {
        expect(res.status).toBe(503);
        expect(res.headers['retry-after']).toBe('2');
      }
      expect(ctx.provider.jwksRequests).toBe(downloads + 2);
      clock.advance(1_000);
      for (const res of await flood('d')) expect(res.status).toBe(503);
      expect(ctx.provider.jwksRequests).toBe(downloads + 2);

      // The provider is back, with a key rotated in during the outage: found within 2 s, one download.
      ctx.provider.jwksMode = 'ok';
      ctx.provider.keys = [key1.jwk, key2.jwk];
      clock.advance(1_000);
      await ctx.withToken(ctx.tokens.sign({}, {}, key2)).expect(200);
      expect(ctx.provider.jwksRequests).toBe(downloads + 3);
      downloads = ctx.provider.jwksRequests;
      // And a random kid is an invalid token again (401), with the full cooldown before the next download.
      for (const res of await flood('e')) expect(res.headers['www-authenticate']).toBe(challenge.invalidToken(Refusal.noKey));
      clock.advance(5_000);
      for (const res of await flood('f')) expect(res.status).toBe(401);
      expect(ctx.provider.jwksRequests).toBe(downloads);
      await ctx.withToken(ctx.tokens.sign()).expect(200);
    });
  });

  describe('bounded downloads', () => {
    const jwksTimeoutMs = 300;
    const ctx = useSecurityApp(adapter, [key1], { jwksUri: undefined, jwksTimeoutMs, jwksCooldownMs: 0 });

    afterEach(() => {
      ctx.provider.jwksMode = 'ok';
      ctx.provider.discoveryMode = 'ok';
      ctx.provider.discoveredJwksUri = undefined;
    });

    it.each([
      ['a JWKS that drips forever', 'jwksMode', 'drip'],
      ['a discovery document that drips forever', 'discoveryMode', 'drip'],
      ['a JWKS over 512 KiB', 'jwksMode', 'huge'],
      ['a discovery document over 512 KiB', 'discoveryMode', 'huge'],
    ] as const)('should answer 503 with Retry-After, within jwksTimeoutMs, for a key only %s could give', async (_case, endpoint, mode) => {
      ctx.provider[endpoint] = mode;
      const started = performance.now();
      const res = await ctx.withToken(ctx.tokens.sign({}, {}, key2));
      expect(res.status).toBe(503);
      expect(res.body.message).toBe(KEYS_UNAVAILABLE);
      expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(performance.now() - started).toBeLessThan(jwksTimeoutMs + 1_500);
    });

    it('should keep serving known keys while the JWKS is oversized, and rediscover a moved jwks_uri on the next attempt', async () => {
      await ctx.withToken(ctx.tokens.sign()).expect(200);
      ctx.provider.jwksMode = 'huge';
      await ctx.sa.keySet.refresh();
      await ctx.withToken(ctx.tokens.sign()).expect(200);
      const moved = await new JwksServer().start();
      try {
        moved.keys = [key1.jwk, key2.jwk];
        ctx.provider.discoveredJwksUri = moved.jwksUri;
        const discoveries = ctx.provider.discoveryRequests;
        await ctx.withToken(ctx.tokens.sign({}, {}, key2)).expect(200);
        expect(ctx.provider.discoveryRequests).toBe(discoveries + 1);
        expect(moved.jwksRequests).toBe(1);
      } finally {
        await moved.stop();
      }
    });
  });

  describe('key removal', () => {
    const clock = new TestClock();
    const jwksMaxAgeMs = 5_000;
    const ctx = useSecurityApp(adapter, [key1, key2], { jwksMaxAgeMs, jwksCooldownMs: 1_000 }, { clock });

    it('should stop trusting a removed key within jwksMaxAgeMs plus one download, remembered verifications included', async () => {
      const remembered = ctx.tokens.sign();
      await ctx.withToken(remembered).expect(200);
      await ctx.withToken(remembered).expect(200);
      expect(ctx.sa.verifier.rememberedCount).toBe(1);
      const downloads = ctx.provider.jwksRequests;

      ctx.provider.keys = [key2.jwk];
      // Until the key set is jwksMaxAgeMs old, the provider is not asked again (documented bound).
      clock.advance(jwksMaxAgeMs - 1);
      await ctx.withToken(ctx.tokens.sign()).expect(200);
      expect(ctx.provider.jwksRequests).toBe(downloads);

      // At jwksMaxAgeMs even a remembered token starts the refresh; it is answered from the old set meanwhile.
      clock.advance(1);
      await ctx.withToken(remembered).expect(200);
      await ctx.sa.keySet.whenIdle();
      expect(ctx.provider.jwksRequests).toBe(downloads + 1);

      await ctx.expectInvalidToken(remembered, Refusal.noKey);
      await ctx.expectInvalidToken(ctx.tokens.sign(), Refusal.noKey);
      expect(ctx.sa.verifier.rememberedCount).toBe(0);
      await ctx.withToken(ctx.tokens.sign({}, {}, key2)).expect(200);
    });
  });

  describe('keys only from the configured JWKS', () => {
    const ctx = useSecurityApp(adapter, [key1]);

    it('should request nothing but the configured /jwks, however hostile the token headers', async () => {
      const attackerUrl = `${ctx.provider.url}/attacker`;
      await ctx.expectInvalidToken(ctx.tokens.sign({}, { kid: 'other', jku: `${attackerUrl}/jwks`, x5u: `${attackerUrl}/x5u` }, key2), Refusal.noKey);
      await ctx.expectInvalidToken(ctx.tokens.sign({}, { kid: `${attackerUrl}/kid` }, key2), Refusal.noKey);
      expect(new Set(ctx.provider.requests)).toEqual(new Set(['/jwks']));
    });

    it('should not follow a redirect away from the configured JWKS', async () => {
      const elsewhere = await new JwksServer().start();
      try {
        elsewhere.keys = [key2.jwk];
        ctx.provider.redirectJwksTo = elsewhere.jwksUri;
        await ctx.sa.keySet.refresh();
        // The download failed (known keys stay); the redirect target was never asked, its key is not trusted.
        expect(elsewhere.requests).toEqual([]);
        await ctx.withToken(ctx.tokens.sign()).expect(200);
        expect(ctx.sa.logger.at('error').map((entry) => entry.text).join('\n')).toContain('Known keys stay in use');
      } finally {
        ctx.provider.redirectJwksTo = undefined;
        await elsewhere.stop();
      }
    });
  });
});
