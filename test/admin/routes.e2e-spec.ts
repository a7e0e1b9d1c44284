import type { INestApplication } from '@nestjs/common';
import type { InMemoryPolicyStore } from 'nestjs-authz';
import { ADAPTERS } from '../support/app';
import { AdminClient, createAdminApp } from './support/admin-app';
import { notePolicy, seededStore, seedPolicies } from './support/seed';
import { lastAuditId, storeState } from './support/store-state';

// What an administrator can do, route by route, with revisions (ETag / If-Match) and idempotent writes.

describe.each(ADAPTERS)('the admin API routes on %s', (adapter) => {
  let app: INestApplication;
  let store: InMemoryPolicyStore;
  let admin: AdminClient;
  const etag = async (policy: string) => (await admin.get(`/policies/${policy}`).expect(200)).headers.etag as string;

  beforeAll(async () => {
    store = seededStore();
    app = await createAdminApp(adapter, { store });
    admin = new AdminClient(app);
  });

  beforeEach(() => {
    // The same policies before every test; revisions and audit ids keep growing, so tests compare, never hard-code them.
    store.replace(seedPolicies());
  });

  afterAll(async () => {
    await app.close();
  });

  describe('when listing and reading policies', () => {
    it('should list every policy with its revision', async () => {
      const { revisions } = await storeState(store);
      const res = await admin.get('/policies').expect(200);
      expect(res.body).toEqual({ policies: [{ name: 'authz', revision: revisions.authz }, { name: 'note', revision: revisions.note }] });
    });

    it('should answer one policy with its normalised document and ETag "<revision>"', async () => {
      const res = await admin.get('/policies/note').expect(200);
      expect(res.headers.etag).toBe(`"${res.body.revision}"`);
      expect(res.body).toEqual({
        name: 'note',
        revision: expect.any(Number),
        document: {
          roles: notePolicy.roles,
          subjects: { susan: { roles: ['reader'], permissions: ['CanReadConfidentialNotes'] }, alice: { roles: ['editor'], permissions: [] } },
          identityRoles: notePolicy.identityRoles,
        },
      });
    });

    it('should answer 404 for an unknown policy', async () => {
      const res = await admin.get('/policies/nope').expect(404);
      expect(res.body).toEqual({ statusCode: 404, error: 'Not Found', message: "Policy 'nope' does not exist", policy: 'nope' });
    });
  });

  describe('when provisioning a whole policy with PUT', () => {
    const report = { roles: { viewer: ['CanView'] }, subjects: { bob: { roles: ['viewer'] } } };

    it('should create it (200, changed, ETag) and serve it afterwards', async () => {
      const res = await admin.put('/policies/report', report).expect(200);
      expect(res.body).toEqual({ name: 'report', revision: expect.any(Number), changed: true });
      expect(res.headers.etag).toBe(`"${res.body.revision}"`);
      const read = await admin.get('/policies/report').expect(200);
      expect(read.body.document).toEqual({ roles: { viewer: ['CanView'] }, subjects: { bob: { roles: ['viewer'], permissions: [] } }, identityRoles: {} });
    });

    it('should be idempotent: the same document again changes nothing and keeps the revision', async () => {
      const first = await admin.put('/policies/report', report).expect(200);
      const again = await admin.put('/policies/report', report).expect(200);
      expect(again.body).toEqual({ name: 'report', revision: first.body.revision, changed: false });
      expect(again.headers.etag).toBe(first.headers.etag);
    });

    it('should replace an existing policy when If-Match names its revision', async () => {
      const res = await admin.put('/policies/note', report).set('If-Match', await etag('note')).expect(200);
      expect(res.body.changed).toBe(true);
      expect((await admin.get('/policies/note')).body.document.roles).toEqual({ viewer: ['CanView'] });
    });

    it('should answer 409 with the store message when If-Match is stale, and write nothing', async () => {
      const stale = await etag('note');
      await admin.put('/policies/note/subjects/bob/roles/reader').expect(204);
      const before = await storeState(store);
      const res = await admin.put('/policies/note', report).set('If-Match', stale).expect(409);
      expect(res.body).toMatchObject({ statusCode: 409, error: 'Conflict', policy: 'note', expectedRevision: Number(JSON.parse(stale)) });
      expect(res.body.message).toMatch(/^Policy 'note' is at revision \d+, not \d+: it changed since it was read; read it again and retry$/);
      expect(await storeState(store)).toEqual(before);
    });

    it('should create only when If-Match is "0", and answer 409 when the policy exists', async () => {
      await admin.put('/policies/fresh', report).set('If-Match', '"0"').expect(200);
      const res = await admin.put('/policies/fresh', report).set('If-Match', '"0"').expect(409);
      expect(res.body.message).toMatch(/^Policy 'fresh' already exists \(revision \d+\)$/);
    });

    it('should answer 400 naming the field of an invalid document', async () => {
      const res = await admin.put('/policies/note', { roles: { reader: ['CanRead'] }, subjects: { bob: { roles: ['writer'] } } }).expect(400);
      expect(res.body).toEqual({
        statusCode: 400,
        error: 'Bad Request',
        message: "subjects.bob.roles[0] refers to role 'writer', which `roles` does not define",
        field: 'subjects.bob.roles[0]',
      });
    });
  });

  describe('when granting and revoking a subject\'s roles', () => {
    it('should grant with 204 and the new ETag, and show it on the subject', async () => {
      const before = await etag('note');
      const res = await admin.put('/policies/note/subjects/bob/roles/editor').expect(204);
      expect(res.headers.etag).not.toBe(before);
      expect(res.text).toBe('');
      const subject = await admin.get('/policies/note/subjects/bob').expect(200);
      expect(subject.body).toEqual({ policy: 'note', subject: 'bob', revision: Number(JSON.parse(res.headers.etag)), roles: ['editor'], permissions: [] });
      expect(subject.headers.etag).toBe(res.headers.etag);
    });

    it('should be idempotent: granting a held role again is 204 with the same ETag and no audit entry', async () => {
      const first = await admin.put('/policies/note/subjects/bob/roles/editor').expect(204);
      const { auditLength } = await storeState(store);
      const again = await admin.put('/policies/note/subjects/bob/roles/editor').expect(204);
      expect(again.headers.etag).toBe(first.headers.etag);
      expect((await storeState(store)).auditLength).toBe(auditLength);
    });

    it('should answer a write that changes nothing with the policy\'s own revision, not the store\'s newer one', async () => {
      const granted = await admin.put('/policies/note/subjects/bob/roles/editor').expect(204);
      await admin.put('/policies/authz/subjects/erin/roles/administrator').expect(204);
      const again = await admin.put('/policies/note/subjects/bob/roles/editor').expect(204);
      expect(again.headers.etag).toBe(granted.headers.etag);
      expect(again.headers.etag).toBe(await etag('note'));
    });

    it('should revoke with 204, and revoking again is 204 with an unchanged ETag', async () => {
      const revoked = await admin.delete('/policies/note/subjects/susan/roles/reader').expect(204);
      expect((await admin.get('/policies/note/subjects/susan')).body.roles).toEqual([]);
      const again = await admin.delete('/policies/note/subjects/susan/roles/reader').expect(204);
      expect(again.headers.etag).toBe(revoked.headers.etag);
    });

    it('should answer 404 for a role the policy does not define, and for an unknown policy', async () => {
      const role = await admin.put('/policies/note/subjects/bob/roles/writer').expect(404);
      expect(role.body).toEqual({ statusCode: 404, error: 'Not Found', message: "Role 'writer' is not defined in policy 'note'", policy: 'note', role: 'writer' });
      const policy = await admin.put('/policies/nope/subjects/bob/roles/reader').expect(404);
      expect(policy.body.message).toBe("Policy 'nope' does not exist");
      await admin.get('/policies/nope/subjects/bob').expect(404);
    });

    it('should answer an unknown subject of a known policy with empty grants', async () => {
      const res = await admin.get('/policies/note/subjects/nobody').expect(200);
      expect(res.body).toMatchObject({ policy: 'note', subject: 'nobody', roles: [], permissions: [] });
    });
  });

  describe('when granting and revoking direct permissions', () => {
    it('should grant and revoke a permission, idempotently', async () => {
      await admin.put('/policies/note/subjects/bob/permissions/CanExport').expect(204);
      const again = await admin.put('/policies/note/subjects/bob/permissions/CanExport').expect(204);
      expect((await admin.get('/policies/note/subjects/bob')).body.permissions).toEqual(['CanExport']);
      expect(again.headers.etag).toBe(await etag('note'));
      await admin.delete('/policies/note/subjects/bob/permissions/CanExport').expect(204);
      await admin.delete('/policies/note/subjects/bob/permissions/CanExport').expect(204);
      expect((await admin.get('/policies/note/subjects/bob')).body.permissions).toEqual([]);
    });

    it('should accept the wildcard * as a permission (every permission of the policy)', async () => {
      await admin.put('/policies/note/subjects/root/permissions/*').expect(204);
      expect((await admin.get('/policies/note/subjects/root')).body.permissions).toEqual(['*']);
    });
  });

  describe('when defining and deleting roles', () => {
    it('should define a role with 204 and replace its permissions on a second PUT', async () => {
      await admin.put('/policies/note/roles/commenter', { permissions: ['CanRead', 'CanComment', 'CanRead'] }).expect(204);
      expect((await admin.get('/policies/note')).body.document.roles.commenter).toEqual(['CanRead', 'CanComment']);
      await admin.put('/policies/note/roles/commenter', { permissions: ['CanComment'] }).expect(204);
      expect((await admin.get('/policies/note')).body.document.roles.commenter).toEqual(['CanComment']);
    });

    it('should delete a role nobody holds with 204', async () => {
      await admin.delete('/policies/note/roles/unused').expect(204);
      expect((await admin.get('/policies/note')).body.document.roles).not.toHaveProperty('unused');
    });

    it('should answer 409 for a role still held, naming it, and keep it', async () => {
      const res = await admin.delete('/policies/note/roles/reader').expect(409);
      expect(res.body).toEqual({
        statusCode: 409,
        error: 'Conflict',
        message: "Role 'reader' of policy 'note' is still held by subjects (type-wide or on resources) or given by identity roles; revoke it first",
        policy: 'note',
        role: 'reader',
      });
      expect((await admin.get('/policies/note')).body.document.roles.reader).toEqual(['CanRead']);
    });

    it('should answer 404 for deleting a role that is not defined', async () => {
      const res = await admin.delete('/policies/note/roles/ghost').expect(404);
      expect(res.body.message).toBe("Role 'ghost' is not defined in policy 'note'");
    });
  });

  describe('when mapping identity roles', () => {
    it('should map an identity role to roles with 204 and delete the mapping idempotently', async () => {
      await admin.put('/policies/note/identity-roles/staff', { roles: ['reader', 'editor'] }).expect(204);
      expect((await admin.get('/policies/note')).body.document.identityRoles.staff).toEqual(['reader', 'editor']);
      await admin.delete('/policies/note/identity-roles/staff').expect(204);
      const again = await admin.delete('/policies/note/identity-roles/staff').expect(204);
      expect((await admin.get('/policies/note')).body.document.identityRoles).not.toHaveProperty('staff');
      expect(again.headers.etag).toBe(await etag('note'));
    });

    it('should answer 404 when the mapping names a role the policy does not define', async () => {
      const res = await admin.put('/policies/note/identity-roles/staff', { roles: ['ghost'] }).expect(404);
      expect(res.body).toMatchObject({ policy: 'note', role: 'ghost' });
    });
  });

  describe('when a write carries If-Match', () => {
    it.each([
      ['a strong tag', (revision: number) => `"${revision}"`],
      ['a weak tag', (revision: number) => `W/"${revision}"`],
      ['a bare number', (revision: number) => String(revision)],
    ])('should accept %s of the current revision', async (_case, format) => {
      const revision = Number(JSON.parse(await etag('note')));
      const res = await admin.put('/policies/note/subjects/bob/roles/reader').set('If-Match', format(revision)).expect(204);
      expect(Number(JSON.parse(res.headers.etag))).toBeGreaterThan(revision);
    });

    it.each([
      ['a grant', (client: AdminClient) => client.put('/policies/note/subjects/bob/roles/reader')],
      ['a revoke', (client: AdminClient) => client.delete('/policies/note/subjects/susan/permissions/CanReadConfidentialNotes')],
      ['a role definition', (client: AdminClient) => client.put('/policies/note/roles/reader', { permissions: ['CanRead', 'CanList'] })],
      ['a role deletion', (client: AdminClient) => client.delete('/policies/note/roles/unused')],
      ['an identity-role mapping', (client: AdminClient) => client.put('/policies/note/identity-roles/staff', { roles: ['reader'] })],
      ['an identity-role deletion', (client: AdminClient) => client.delete('/policies/note/identity-roles/notes-admin')],
    ])('should answer 409 to %s with a stale revision and change nothing', async (_case, send) => {
      const stale = await etag('note');
      await admin.put('/policies/note/subjects/erin/roles/reader').expect(204);
      const before = await storeState(store);
      const res = await send(admin).set('If-Match', stale).expect(409);
      expect(res.body).toMatchObject({ statusCode: 409, error: 'Conflict', policy: 'note' });
      expect(await storeState(store)).toEqual(before);
    });

    it('should answer 409 even when the write would change nothing', async () => {
      const stale = await etag('note');
      await admin.put('/policies/note/subjects/erin/roles/reader').expect(204);
      await admin.put('/policies/note/subjects/susan/roles/reader').set('If-Match', stale).expect(409);
    });
  });

  describe('when reading the audit trail', () => {
    it('should show the actor (the administrator\'s subject) and the state before and after each change', async () => {
      const after = await lastAuditId(store);
      await admin.put('/policies/note/subjects/susan/roles/editor').expect(204);
      await admin.put('/policies/note/roles/reader', { permissions: ['CanRead', 'CanList'] }).expect(204);
      const res = await admin.get(`/audit?policy=note&after=${after}`).expect(200);
      expect(res.body).toEqual({
        entries: [
          {
            id: after + 1,
            at: expect.any(String),
            actor: 'carol',
            action: 'grant-role',
            policy: 'note',
            target: { subject: 'susan' },
            before: { roles: ['reader'], permissions: ['CanReadConfidentialNotes'] },
            after: { roles: ['reader', 'editor'], permissions: ['CanReadConfidentialNotes'] },
            revision: expect.any(Number),
          },
          {
            id: after + 2,
            at: expect.any(String),
            actor: 'carol',
            action: 'put-role',
            policy: 'note',
            target: { role: 'reader' },
            before: { permissions: ['CanRead'] },
            after: { permissions: ['CanRead', 'CanList'] },
            revision: expect.any(Number),
          },
        ],
      });
      expect(new Date(res.body.entries[0].at).toISOString()).toBe(res.body.entries[0].at);
    });

    it('should page oldest first with after and limit, giving next only while pages are full', async () => {
      const after = await lastAuditId(store);
      for (const subject of ['p1', 'p2', 'p3']) await admin.put(`/policies/note/subjects/${subject}/roles/reader`).expect(204);
      const first = await admin.get(`/audit?after=${after}&limit=2`).expect(200);
      expect(first.body.entries.map((entry: { target: unknown }) => entry.target)).toEqual([{ subject: 'p1' }, { subject: 'p2' }]);
      expect(first.body.next).toBe(after + 2);
      const second = await admin.get(`/audit?after=${first.body.next}&limit=2`).expect(200);
      expect(second.body.entries.map((entry: { target: unknown }) => entry.target)).toEqual([{ subject: 'p3' }]);
      expect(second.body).not.toHaveProperty('next');
    });

    it('should filter by policy and by subject', async () => {
      const after = await lastAuditId(store);
      await admin.put('/policies/note/subjects/fay/roles/reader').expect(204);
      await admin.put('/policies/note/subjects/gus/roles/reader').expect(204);
      await admin.put('/policies/authz/subjects/fay/roles/administrator').expect(204);
      const bySubject = await admin.get(`/audit?subject=fay&after=${after}`).expect(200);
      expect(bySubject.body.entries.map((entry: { policy: string }) => entry.policy)).toEqual(['note', 'authz']);
      const both = await admin.get(`/audit?policy=authz&subject=fay&after=${after}`).expect(200);
      expect(both.body.entries).toHaveLength(1);
    });

    it('should default to 100 entries per page', async () => {
      const after = await lastAuditId(store);
      const edits = Array.from({ length: 101 }, (_, index) => ({ kind: 'grant-permission' as const, policy: 'note', subject: 'bulk', permission: `P${index}` }));
      await store.edit(edits, { actor: 'test' });
      const res = await admin.get(`/audit?after=${after}`).expect(200);
      expect(res.body.entries).toHaveLength(100);
      expect(res.body.next).toBe(after + 100);
    });
  });
});
