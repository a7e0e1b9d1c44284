import type { INestApplication } from '@nestjs/common';
import { CaptureLogger } from '../security/support/capture-logger';
import { AdminClient, createAdminApp } from './support/admin-app';
import { seededStore } from './support/seed';

// Fastify routes a parameter only up to `maxParamLength` characters (100 by default), names may have 255.

describe('the admin API on Fastify with the default maxParamLength', () => {
  const store = seededStore();
  let app: INestApplication;
  let logger: CaptureLogger;

  beforeAll(async () => {
    logger = new CaptureLogger();
    app = await createAdminApp('fastify', { store, logger, maxParamLength: 100 });
  });

  afterAll(async () => {
    await app.close();
  });

  describe('when the app starts', () => {
    it('should warn that longer names cannot reach the API, and how to fix it', () => {
      const warnings = logger.at('warn').filter((entry) => entry.text.includes('AuthzAdmin'));
      expect(warnings).toHaveLength(1);
      expect(warnings[0].text).toContain('at most 100 characters');
      expect(warnings[0].text).toContain('new FastifyAdapter({ routerOptions: { maxParamLength: 1000 } })');
    });
  });

  describe('when a name is longer than the limit', () => {
    it('should be refused by the platform before the API, writing nothing', async () => {
      const res = await new AdminClient(app).put(`/policies/note/subjects/${'x'.repeat(150)}/roles/reader`);
      expect(res.status).toBe(414);
      expect(await store.audit({ limit: 10 })).toEqual([]);
    });
  });
});

describe.each([
  ['Fastify with a raised maxParamLength', 'fastify', 1000],
  ['Express (no parameter limit)', 'express', undefined],
] as const)('the admin API on %s', (_case, adapter, maxParamLength) => {
  it('should not warn at start', async () => {
    const logger = new CaptureLogger();
    const app = await createAdminApp(adapter, { store: seededStore(), logger, maxParamLength });
    await app.close();
    expect(logger.at('warn').filter((entry) => entry.text.includes('AuthzAdmin'))).toEqual([]);
  });
});
