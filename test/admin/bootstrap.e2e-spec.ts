import type { INestApplication } from '@nestjs/common';
import { AuthzConfigurationError, InMemoryPolicyStore } from 'nestjs-authz';
import { ADAPTERS } from '../support/app';
import { AdminClient, createAdminApp } from './support/admin-app';
import { notePolicy } from './support/seed';

// The first administrators: policy `authz` is created once, on the first start, and never touched again by a start.

describe.each(ADAPTERS)('bootstrapping the first administrators on %s', (adapter) => {
  const apps: INestApplication[] = [];
  const start = async (...args: Parameters<typeof createAdminApp>) => {
    const app = await createAdminApp(...args);
    apps.push(app);
    return app;
  };

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });

  describe('when the store has no policy authz yet', () => {
    it('should create it with the administrators, audited as bootstrap, and let them in', async () => {
      const store = new InMemoryPolicyStore({ note: notePolicy });
      const app = await start(adapter, { store, admin: { administrators: ['carol', 'erin', 'carol'] } });
      const policy = await store.getPolicy('authz');
      expect(policy?.document).toEqual({
        roles: { administrator: ['CanAdminister'] },
        subjects: { carol: { roles: ['administrator'], permissions: [] }, erin: { roles: ['administrator'], permissions: [] } },
        identityRoles: {},
      });
      const entries = await store.audit({ policy: 'authz', limit: 10 });
      expect(entries).toEqual([expect.objectContaining({ actor: 'bootstrap', action: 'put-policy', policy: 'authz', before: null, revision: policy?.revision })]);
      await new AdminClient(app).get('/policies').expect(200);
      await new AdminClient(app).as('erin').get('/policies/authz').expect(200);
    });

    it('should work with the in-memory `policies` option as well', async () => {
      const app = await start(adapter, { policies: { note: notePolicy }, admin: { administrators: ['carol'] } });
      const res = await new AdminClient(app).get('/policies').expect(200);
      expect(res.body.policies.map((policy: { name: string }) => policy.name)).toEqual(['authz', 'note']);
    });

    it('should create it once when three instances start together on one store', async () => {
      const store = new InMemoryPolicyStore();
      await Promise.all(['carol', 'erin', 'fay'].map((subject) => start(adapter, { store, admin: { administrators: [subject] } })));
      const entries = await store.audit({ policy: 'authz', limit: 10 });
      expect(entries).toHaveLength(1);
      expect(Object.keys((await store.getPolicy('authz'))!.document.subjects)).toHaveLength(1);
    });
  });

  describe('when policy authz exists already', () => {
    it('should leave it alone when a second app on the same store names other administrators', async () => {
      const store = new InMemoryPolicyStore({ note: notePolicy });
      await start(adapter, { store, admin: { administrators: ['carol'] } });
      const before = await store.getPolicy('authz');
      const second = await start(adapter, { store, admin: { administrators: ['mallory'] } });
      expect(await store.getPolicy('authz')).toEqual(before);
      expect(await store.audit({ policy: 'authz', limit: 10 })).toHaveLength(1);
      await new AdminClient(second).as('mallory').get('/policies').expect(403);
      await new AdminClient(second).get('/policies').expect(200);
    });

    it('should leave alone a policy authz given by the app, even one that grants nobody', async () => {
      const store = new InMemoryPolicyStore({ authz: { roles: { administrator: ['CanAdminister'] } } });
      const app = await start(adapter, { store, admin: { administrators: ['carol'] } });
      expect((await store.getPolicy('authz'))?.document.subjects).toEqual({});
      expect(await store.audit({ limit: 10 })).toEqual([]);
      await new AdminClient(app).get('/policies').expect(403);
    });
  });

  describe('when there are no administrators and no policy authz', () => {
    it('should refuse to start, naming the policy the admin routes check', async () => {
      const error = await createAdminApp(adapter, { policies: { note: notePolicy } }).then(
        (app) => (apps.push(app), undefined),
        (reason: unknown) => reason,
      );
      expect(error).toBeInstanceOf(AuthzConfigurationError);
      expect((error as Error).message).toContain("checks permissions in policy 'authz'");
    });
  });

  describe('when the store fails at the first start', () => {
    it('should not start (a failure other than "it exists" is not swallowed)', async () => {
      const store = new InMemoryPolicyStore();
      jest.spyOn(store, 'edit').mockRejectedValueOnce(new Error('connect ECONNREFUSED'));
      await expect(createAdminApp(adapter, { store, admin: { administrators: ['carol'] } })).rejects.toThrow('connect ECONNREFUSED');
    });
  });
});
