import type { INestApplication } from '@nestjs/common';
import { ADAPTERS } from '../support/app';
import { CaptureLogger } from '../security/support/capture-logger';
import { AdminClient, createAdminApp } from './support/admin-app';
import { FailingStore } from './support/failing-store';
import { seedPolicies } from './support/seed';

// A store that fails (database down) is never a 500: 503 with Retry-After, and the error in the logs.

describe.each(ADAPTERS)('the admin API when the policy store fails on %s', (adapter) => {
  let app: INestApplication;
  let store: FailingStore;
  let logger: CaptureLogger;
  let admin: AdminClient;

  beforeAll(async () => {
    store = new FailingStore(seedPolicies());
    logger = new CaptureLogger();
    app = await createAdminApp(adapter, { store, logger });
    admin = new AdminClient(app);
  });

  beforeEach(() => {
    store.down = true;
    logger.entries.length = 0;
  });

  afterAll(async () => {
    await app.close();
  });

  describe.each([
    ['listing policies', (client: AdminClient) => client.get('/policies')],
    ['reading a policy', (client: AdminClient) => client.get('/policies/note')],
    ['provisioning a policy', (client: AdminClient) => client.put('/policies/note', { roles: {} })],
    ['granting a role', (client: AdminClient) => client.put('/policies/note/subjects/bob/roles/reader')],
    ['deleting a role', (client: AdminClient) => client.delete('/policies/note/roles/unused')],
    ['mapping an identity role', (client: AdminClient) => client.put('/policies/note/identity-roles/staff', { roles: ['reader'] })],
    ['reading a subject', (client: AdminClient) => client.get('/policies/note/subjects/susan')],
    ['explaining a decision', (client: AdminClient) => client.get('/policies/note/explain?subject=susan&permission=CanRead')],
    ['reading the audit trail', (client: AdminClient) => client.get('/audit')],
    ['reading a resource\'s grants', (client: AdminClient) => client.get('/policies/note/resources/42')],
    ['granting a role on a resource', (client: AdminClient) => client.put('/policies/note/resources/42/subjects/bob/roles/reader')],
    ['deleting a resource\'s grants', (client: AdminClient) => client.delete('/policies/note/resources/42')],
    ['listing a subject\'s resources', (client: AdminClient) => client.get('/policies/note/subjects/susan/resources')],
    ['explaining a decision on a resource', (client: AdminClient) => client.get('/policies/note/explain?subject=susan&permission=CanRead&resource=42')],
  ])('when %s', (_case, send) => {
    it('should answer 503 with Retry-After: 5 and log the error with its stack', async () => {
      const res = await send(admin).expect(503);
      expect(res.headers['retry-after']).toBe('5');
      expect(res.body).toEqual({ statusCode: 503, error: 'Service Unavailable', message: 'The policy store is unavailable; try again later' });
      const errors = logger.at('error');
      expect(errors).toHaveLength(1);
      expect(errors[0].text).toContain('The policy store failed');
      expect(errors[0].text).toContain('connect ECONNREFUSED 127.0.0.1:5432');
      expect(errors[0].text).toContain('failing-store.ts');
    });
  });

  describe('when the store is back', () => {
    it('should answer again, with nothing written while it was down', async () => {
      await admin.put('/policies/note/subjects/bob/roles/reader').expect(503);
      store.down = false;
      const res = await admin.get('/policies/note/subjects/bob').expect(200);
      expect(res.body.roles).toEqual([]);
    });
  });

  describe('when the guard itself cannot read policy authz', () => {
    it('should pass on the guard\'s own 503 with its Retry-After', async () => {
      const guardStore = new FailingStore(seedPolicies());
      guardStore.guardDown = true;
      const guarded = await createAdminApp(adapter, { store: guardStore });
      try {
        const res = await new AdminClient(guarded).get('/policies').expect(503);
        expect(res.headers['retry-after']).toBe('5');
        expect(res.body).toEqual({ statusCode: 503, error: 'Service Unavailable', message: "Policy 'authz' could not be evaluated; try again later" });
      } finally {
        await guarded.close();
      }
    });
  });
});
