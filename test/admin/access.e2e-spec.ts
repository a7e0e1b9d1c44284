import type { INestApplication } from '@nestjs/common';
import { ADAPTERS } from '../support/app';
import { AdminClient, createAdminApp } from './support/admin-app';
import { seededStore } from './support/seed';

// Who gets in: the library guards its own admin API, with or without the app's APP_GUARD.

describe.each(ADAPTERS)('the admin API access rules on %s', (adapter) => {
  describe.each([
    ['without an APP_GUARD', false],
    ['with an APP_GUARD too (the guard runs twice)', true],
  ])('when the app is %s', (_case, appGuard) => {
    let app: INestApplication;
    let admin: AdminClient;

    beforeAll(async () => {
      app = await createAdminApp(adapter, { store: seededStore(), appGuard });
      admin = new AdminClient(app);
    });

    afterAll(async () => {
      await app.close();
    });

    it('should answer 401 with a bearer challenge without a token', async () => {
      const res = await admin.anonymous().get('/policies').expect(401);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="test-api"');
      expect(res.body).toEqual({ statusCode: 401, error: 'Unauthorized', message: 'Bearer access token required' });
    });

    it('should answer 401 invalid_token for a malformed token', async () => {
      const res = await admin.anonymous().get('/policies').auth('not.a.token', { type: 'bearer' }).expect(401);
      expect(res.headers['www-authenticate']).toContain('error="invalid_token"');
    });

    it('should answer 403 insufficient_scope for an administrator whose token lacks authz:admin', async () => {
      const res = await admin.as('carol', ['notes:read']).get('/policies').expect(403);
      expect(res.headers['www-authenticate']).toBe(
        'Bearer realm="test-api", error="insufficient_scope", error_description="The token lacks the scope(s): authz:admin", scope="authz:admin"',
      );
      expect(res.body).toMatchObject({ requiredScopes: ['authz:admin'] });
    });

    it('should answer 403 naming CanAdminister for a token with the scope whose subject is no administrator', async () => {
      const res = await admin.as('dave').put('/policies/note/subjects/dave/roles/editor').expect(403);
      expect(res.body).toEqual({
        statusCode: 403,
        error: 'Forbidden',
        message: "Policy 'authz' does not grant: CanAdminister",
        policy: 'authz',
        missingPermissions: ['CanAdminister'],
      });
      expect(res.headers['www-authenticate']).toBeUndefined();
    });

    it('should refuse every route the same way, reads and writes alike', async () => {
      const dave = admin.as('dave');
      const answers = await Promise.all([
        dave.get('/policies'),
        dave.get('/policies/note'),
        dave.put('/policies/note', {}),
        dave.get('/policies/note/subjects/susan'),
        dave.delete('/policies/note/subjects/susan/permissions/CanReadConfidentialNotes'),
        dave.put('/policies/note/roles/reader', { permissions: [] }),
        dave.delete('/policies/note/identity-roles/notes-admin'),
        dave.get('/policies/note/explain?subject=susan&permission=CanRead'),
        dave.get('/audit'),
        dave.get('/policies/note/resources/42'),
        dave.put('/policies/note/resources/42/subjects/dave/roles/editor'),
        dave.delete('/policies/note/resources/42/subjects/susan/roles/reader'),
        dave.delete('/policies/note/resources/42'),
        dave.get('/policies/note/subjects/susan/resources'),
      ]);
      expect(answers.map((res) => res.status)).toEqual(answers.map(() => 403));
    });

    it('should let an administrator with the scope through', async () => {
      const res = await admin.get('/policies').expect(200);
      expect(res.body.policies.map((policy: { name: string }) => policy.name)).toEqual(['authz', 'note']);
    });
  });

  describe('when an administrator makes someone else an administrator through the API', () => {
    let app: INestApplication;

    beforeAll(async () => {
      app = await createAdminApp(adapter, { store: seededStore() });
    });

    afterAll(async () => {
      await app.close();
    });

    it('should let the new administrator in at once (the decision cache drops the old answer)', async () => {
      const admin = new AdminClient(app);
      await admin.as('dave').get('/policies').expect(403);
      await admin.put('/policies/authz/subjects/dave/roles/administrator').expect(204);
      await admin.as('dave').get('/policies').expect(200);
      await admin.delete('/policies/authz/subjects/dave/roles/administrator').expect(204);
      await admin.as('dave').get('/policies').expect(403);
    });
  });

  describe('when two apps in one process mount the API under different paths', () => {
    let first: INestApplication;
    let second: INestApplication;

    beforeAll(async () => {
      [first, second] = await Promise.all([
        createAdminApp(adapter, { store: seededStore() }),
        createAdminApp(adapter, { store: seededStore(), admin: { path: '/admin/policy-admin/' } }),
      ]);
    });

    afterAll(async () => {
      await Promise.all([first.close(), second.close()]);
    });

    it('should serve each app under its own path only', async () => {
      await new AdminClient(first).get('/policies').expect(200);
      await new AdminClient(first).at('/admin/policy-admin').get('/policies').expect(404);
      await new AdminClient(second).at('/admin/policy-admin').get('/policies').expect(200);
      await new AdminClient(second).get('/policies').expect(404);
    });

    it('should guard the custom path as well', async () => {
      await new AdminClient(second).at('/admin/policy-admin').anonymous().get('/policies').expect(401);
      await new AdminClient(second).at('/admin/policy-admin').as('dave').get('/policies').expect(403);
    });
  });
});
