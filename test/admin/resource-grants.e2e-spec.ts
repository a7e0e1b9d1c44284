import type { INestApplication } from '@nestjs/common';
import type { InMemoryPolicyStore, PolicyStore } from 'nestjs-authz';
import { ADAPTERS } from '../support/app';
import { FIRST_DATABASE_TIMEOUT_MS } from '../support/embedded-postgres';
import { openStore, pgliteDatabase, type TestDatabase } from '../support/postgres';
import { AdminClient, createAdminApp } from './support/admin-app';
import { seededStore, seedPolicies } from './support/seed';
import { lastAuditId, storeState } from './support/store-state';

// Roles held on one resource (the owner of note 42): read, grant, revoke, drop, page, explain and audit them.

jest.setTimeout(FIRST_DATABASE_TIMEOUT_MS);

const STAR_MESSAGE = "must not contain '*' (only a permission may be '*', meaning every permission of its policy)";
const revisionOf = (etag: string) => Number(JSON.parse(etag));

describe.each(ADAPTERS)('the admin API for resource grants on %s', (adapter) => {
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
    // The same policies and no resource grants before every test; revisions and audit ids keep growing.
    store.replace(seedPolicies());
  });

  afterAll(async () => {
    await app.close();
  });

  describe('when reading who holds what on a resource', () => {
    it('should answer every subject with its roles, the policy\'s revision and ETag', async () => {
      await admin.put('/policies/note/resources/42/subjects/susan/roles/editor').expect(204);
      await admin.put('/policies/note/resources/42/subjects/bob/roles/reader').expect(204);
      const granted = await admin.put('/policies/note/resources/42/subjects/susan/roles/reader').expect(204);
      const res = await admin.get('/policies/note/resources/42').expect(200);
      expect(res.body).toEqual({ policy: 'note', resource: '42', revision: revisionOf(granted.headers.etag), subjects: { bob: ['reader'], susan: ['editor', 'reader'] } });
      expect(res.headers.etag).toBe(granted.headers.etag);
      expect(res.headers.etag).toBe(await etag('note'));
    });

    it('should answer a resource nobody holds anything on with no subjects', async () => {
      const res = await admin.get('/policies/note/resources/nothing-here').expect(200);
      expect(res.body).toEqual({ policy: 'note', resource: 'nothing-here', revision: revisionOf(await etag('note')), subjects: {} });
    });

    it('should keep resource grants out of the subject\'s type-wide grants and the policy document', async () => {
      await admin.put('/policies/note/resources/42/subjects/bob/roles/editor').expect(204);
      expect((await admin.get('/policies/note/subjects/bob').expect(200)).body).toMatchObject({ roles: [], permissions: [] });
      expect((await admin.get('/policies/note').expect(200)).body.document.subjects).not.toHaveProperty('bob');
    });

    it('should take resource ids with URL-encoded characters as they are', async () => {
      await admin.put('/policies/note/resources/note%3A42%2Fdraft/subjects/bob/roles/reader').expect(204);
      const res = await admin.get(`/policies/note/resources/${encodeURIComponent('note:42/draft')}`).expect(200);
      expect(res.body).toMatchObject({ resource: 'note:42/draft', subjects: { bob: ['reader'] } });
    });

    it('should answer 404 for an unknown policy', async () => {
      const res = await admin.get('/policies/nope/resources/42').expect(404);
      expect(res.body).toEqual({ statusCode: 404, error: 'Not Found', message: "Policy 'nope' does not exist", policy: 'nope' });
    });
  });

  describe('when granting and revoking a role on a resource', () => {
    it('should grant with 204 and the new ETag', async () => {
      const before = await etag('note');
      const res = await admin.put('/policies/note/resources/42/subjects/bob/roles/editor').expect(204);
      expect(res.text).toBe('');
      expect(revisionOf(res.headers.etag)).toBeGreaterThan(revisionOf(before));
      expect(res.headers.etag).toBe(await etag('note'));
    });

    it('should be idempotent: granting a held role again is 204 with the same ETag and no audit entry', async () => {
      const first = await admin.put('/policies/note/resources/42/subjects/bob/roles/editor').expect(204);
      const { auditLength } = await storeState(store);
      const again = await admin.put('/policies/note/resources/42/subjects/bob/roles/editor').expect(204);
      expect(again.headers.etag).toBe(first.headers.etag);
      expect((await storeState(store)).auditLength).toBe(auditLength);
    });

    it('should revoke with 204, and revoking again is 204 with an unchanged ETag', async () => {
      await admin.put('/policies/note/resources/42/subjects/bob/roles/editor').expect(204);
      await admin.put('/policies/note/resources/42/subjects/bob/roles/reader').expect(204);
      const revoked = await admin.delete('/policies/note/resources/42/subjects/bob/roles/editor').expect(204);
      expect((await admin.get('/policies/note/resources/42')).body.subjects).toEqual({ bob: ['reader'] });
      const again = await admin.delete('/policies/note/resources/42/subjects/bob/roles/editor').expect(204);
      expect(again.headers.etag).toBe(revoked.headers.etag);
      await admin.delete('/policies/note/resources/42/subjects/bob/roles/reader').expect(204);
      expect((await admin.get('/policies/note/resources/42')).body.subjects).toEqual({});
    });

    it('should answer 404 naming the role for a role the policy does not define, and write nothing', async () => {
      const before = await storeState(store);
      const res = await admin.put('/policies/note/resources/42/subjects/bob/roles/owner').expect(404);
      expect(res.body).toEqual({ statusCode: 404, error: 'Not Found', message: "Role 'owner' is not defined in policy 'note'", policy: 'note', role: 'owner' });
      expect(await storeState(store)).toEqual(before);
    });

    it.each([
      ['granting', (client: AdminClient) => client.put('/policies/nope/resources/42/subjects/bob/roles/reader')],
      ['revoking', (client: AdminClient) => client.delete('/policies/nope/resources/42/subjects/bob/roles/reader')],
      ['dropping every grant', (client: AdminClient) => client.delete('/policies/nope/resources/42')],
    ])('should answer 404 to %s in an unknown policy', async (_case, send) => {
      const res = await send(admin).expect(404);
      expect(res.body).toEqual({ statusCode: 404, error: 'Not Found', message: "Policy 'nope' does not exist", policy: 'nope' });
    });

    it('should keep a role held only on a resource from being deleted (409)', async () => {
      await admin.put('/policies/note/resources/42/subjects/bob/roles/unused').expect(204);
      const res = await admin.delete('/policies/note/roles/unused').expect(409);
      expect(res.body).toMatchObject({ statusCode: 409, error: 'Conflict', policy: 'note', role: 'unused' });
      await admin.delete('/policies/note/resources/42/subjects/bob/roles/unused').expect(204);
      await admin.delete('/policies/note/roles/unused').expect(204);
    });
  });

  describe('when dropping every grant on a resource', () => {
    it('should answer 204 and leave nobody holding anything on it, and other resources as they were', async () => {
      await admin.put('/policies/note/resources/42/subjects/bob/roles/editor').expect(204);
      await admin.put('/policies/note/resources/42/subjects/susan/roles/reader').expect(204);
      await admin.put('/policies/note/resources/43/subjects/bob/roles/reader').expect(204);
      const res = await admin.delete('/policies/note/resources/42').expect(204);
      expect(res.text).toBe('');
      expect(res.headers.etag).toBe(await etag('note'));
      expect((await admin.get('/policies/note/resources/42')).body.subjects).toEqual({});
      expect((await admin.get('/policies/note/resources/43')).body.subjects).toEqual({ bob: ['reader'] });
    });

    it('should be idempotent: dropping a resource nobody holds anything on changes nothing', async () => {
      const before = await storeState(store);
      const res = await admin.delete('/policies/note/resources/never-granted').expect(204);
      expect(res.headers.etag).toBe(await etag('note'));
      expect(await storeState(store)).toEqual(before);
    });
  });

  describe('when a write carries If-Match', () => {
    it('should accept the current revision', async () => {
      const current = await etag('note');
      const res = await admin.put('/policies/note/resources/42/subjects/bob/roles/reader').set('If-Match', current).expect(204);
      expect(revisionOf(res.headers.etag)).toBeGreaterThan(revisionOf(current));
    });

    it.each([
      ['a grant', (client: AdminClient) => client.put('/policies/note/resources/42/subjects/bob/roles/editor')],
      ['a revoke', (client: AdminClient) => client.delete('/policies/note/resources/42/subjects/susan/roles/reader')],
      ['dropping a resource', (client: AdminClient) => client.delete('/policies/note/resources/42')],
    ])('should answer 409 to %s with a stale revision and change nothing', async (_case, send) => {
      await admin.put('/policies/note/resources/42/subjects/susan/roles/reader').expect(204);
      const stale = await etag('note');
      await admin.put('/policies/note/resources/7/subjects/erin/roles/reader').expect(204);
      const before = await storeState(store);
      const res = await send(admin).set('If-Match', stale).expect(409);
      expect(res.body).toMatchObject({ statusCode: 409, error: 'Conflict', policy: 'note', expectedRevision: revisionOf(stale), revision: revisionOf(await etag('note')) });
      expect(res.body.message).toMatch(/^Policy 'note' is at revision \d+, not \d+: it changed since it was read; read it again and retry$/);
      expect(await storeState(store)).toEqual(before);
      expect((await admin.get('/policies/note/resources/42')).body.subjects).toEqual({ susan: ['reader'] });
    });

    it('should answer 400 naming If-Match when it is no revision', async () => {
      const res = await admin.put('/policies/note/resources/42/subjects/bob/roles/reader').set('If-Match', '*').expect(400);
      expect(res.body).toMatchObject({ statusCode: 400, field: 'If-Match' });
    });
  });

  describe('when a name in the path is malformed', () => {
    it.each([
      ['an empty-looking resource (a space)', (client: AdminClient) => client.put('/policies/note/resources/%20/subjects/bob/roles/reader'), 'resource', 'resource must not be empty'],
      ['a NUL in the resource', (client: AdminClient) => client.put('/policies/note/resources/4%002/subjects/bob/roles/reader'), 'resource', 'resource must not contain control characters'],
      ['* as the resource', (client: AdminClient) => client.get('/policies/note/resources/*'), 'resource', `resource ${STAR_MESSAGE}`],
      ['a 256-character resource', (client: AdminClient) => client.delete(`/policies/note/resources/${'r'.repeat(256)}`), 'resource', 'resource must be at most 255 characters'],
      ['a resource with a trailing space', (client: AdminClient) => client.delete('/policies/note/resources/42%20/subjects/bob/roles/reader'), 'resource', 'resource must not start or end with spaces'],
      ['a NUL in the subject', (client: AdminClient) => client.put('/policies/note/resources/42/subjects/b%00b/roles/reader'), 'subject', 'subject must not contain control characters'],
      ['* as the subject', (client: AdminClient) => client.put('/policies/note/resources/42/subjects/*/roles/reader'), 'subject', `subject ${STAR_MESSAGE}`],
      ['* as the role', (client: AdminClient) => client.put('/policies/note/resources/42/subjects/bob/roles/*'), 'role', `role ${STAR_MESSAGE}`],
      ['a newline in the role', (client: AdminClient) => client.delete('/policies/note/resources/42/subjects/bob/roles/reader%0A'), 'role', 'role must not contain control characters'],
      ['* as the policy', (client: AdminClient) => client.get('/policies/*/resources/42'), 'policy', `policy ${STAR_MESSAGE}`],
      ['a NUL in the subject of a resource list', (client: AdminClient) => client.get('/policies/note/subjects/b%00b/resources'), 'subject', 'subject must not contain control characters'],
    ])('should answer 400 naming the field for %s, and write nothing', async (_case, send, field, message) => {
      const before = await storeState(store);
      const res = await send(admin).expect(400);
      expect(res.body).toEqual({ statusCode: 400, error: 'Bad Request', message, field });
      expect(await storeState(store)).toEqual(before);
    });
  });

  describe('when listing the resources a subject holds roles on', () => {
    it('should answer them by resource id in code-point order, with their roles, leaving out other subjects\'', async () => {
      for (const resource of ['b', 'B', 'a10', 'a9']) await admin.put(`/policies/note/resources/${resource}/subjects/susan/roles/reader`).expect(204);
      await admin.put('/policies/note/resources/a9/subjects/susan/roles/editor').expect(204);
      await admin.put('/policies/note/resources/c/subjects/bob/roles/reader').expect(204);
      const res = await admin.get('/policies/note/subjects/susan/resources').expect(200);
      expect(res.body).toEqual({
        policy: 'note',
        subject: 'susan',
        resources: [
          { resource: 'B', roles: ['reader'] },
          { resource: 'a10', roles: ['reader'] },
          { resource: 'a9', roles: expect.arrayContaining(['reader', 'editor']) },
          { resource: 'b', roles: ['reader'] },
        ],
      });
      expect(res.body.resources[2].roles).toHaveLength(2);
    });

    it('should page with after and limit, giving next only while pages are full', async () => {
      for (const resource of ['r1', 'r2', 'r3']) await admin.put(`/policies/note/resources/${resource}/subjects/susan/roles/reader`).expect(204);
      const first = await admin.get('/policies/note/subjects/susan/resources?limit=2').expect(200);
      expect(first.body).toEqual({ policy: 'note', subject: 'susan', resources: [{ resource: 'r1', roles: ['reader'] }, { resource: 'r2', roles: ['reader'] }], next: 'r2' });
      const second = await admin.get(`/policies/note/subjects/susan/resources?after=${first.body.next}&limit=2`).expect(200);
      expect(second.body).toEqual({ policy: 'note', subject: 'susan', resources: [{ resource: 'r3', roles: ['reader'] }] });
      const exact = await admin.get('/policies/note/subjects/susan/resources?after=r1&limit=2').expect(200);
      expect(exact.body.next).toBe('r3');
      const past = await admin.get(`/policies/note/subjects/susan/resources?after=${exact.body.next}&limit=2`).expect(200);
      expect(past.body).toEqual({ policy: 'note', subject: 'susan', resources: [] });
    });

    it('should default to 100 resources per page', async () => {
      const edits = Array.from({ length: 101 }, (_, index) => ({ kind: 'grant-resource-role' as const, policy: 'note', resource: `n${String(index).padStart(3, '0')}`, subject: 'bulk', role: 'reader' }));
      await store.edit(edits, { actor: 'test' });
      const res = await admin.get('/policies/note/subjects/bulk/resources').expect(200);
      expect(res.body.resources).toHaveLength(100);
      expect(res.body.next).toBe('n099');
      const rest = await admin.get(`/policies/note/subjects/bulk/resources?after=${res.body.next}`).expect(200);
      expect(rest.body.resources).toEqual([{ resource: 'n100', roles: ['reader'] }]);
    });

    it('should answer a subject without resource grants with an empty list', async () => {
      const res = await admin.get('/policies/note/subjects/nobody/resources').expect(200);
      expect(res.body).toEqual({ policy: 'note', subject: 'nobody', resources: [] });
    });

    it('should answer 404 for an unknown policy', async () => {
      const res = await admin.get('/policies/nope/subjects/susan/resources').expect(404);
      expect(res.body.message).toBe("Policy 'nope' does not exist");
    });

    it.each([
      ['a limit of 0', 'limit=0', 'limit', 'limit must be a whole number from 1 to 1000'],
      ['a limit of 1001', 'limit=1001', 'limit', 'limit must be a whole number from 1 to 1000'],
      ['a limit that is no number', 'limit=ten', 'limit', 'limit must be a whole number from 1 to 1000'],
      ['a limit in exponent form', 'limit=1e2', 'limit', 'limit must be a whole number from 1 to 1000'],
      ['an empty after', 'after=', 'after', 'after must not be empty'],
      ['a * after', 'after=*', 'after', `after ${STAR_MESSAGE}`],
      ['a repeated after', 'after=a&after=b', 'after', 'after must be a string'],
      ['an unknown query field', 'role=reader', 'role', 'property role should not exist'],
    ])('should answer 400 naming the field for %s', async (_case, query, field, message) => {
      const res = await admin.get(`/policies/note/subjects/susan/resources?${query}`).expect(400);
      expect(res.body).toEqual({ statusCode: 400, error: 'Bad Request', message, field });
    });
  });

  describe('when explaining a decision on a resource', () => {
    beforeEach(async () => {
      await admin.put('/policies/note/resources/42/subjects/bob/roles/editor').expect(204);
      await admin.put('/policies/note/resources/42/subjects/susan/roles/editor').expect(204);
    });

    it('should answer allowed with the resource-role path, naming the resource', async () => {
      const res = await admin.get('/policies/note/explain?subject=bob&permission=CanWrite&resource=42').expect(200);
      expect(res.body).toEqual({ allowed: true, resource: '42', because: [{ via: 'resource-role', resource: '42', role: 'editor', permission: 'CanWrite' }] });
    });

    it('should answer not allowed without the resource: a role on a resource gives nothing type-wide', async () => {
      const res = await admin.get('/policies/note/explain?subject=bob&permission=CanWrite').expect(200);
      expect(res.body).toEqual({ allowed: false, because: [] });
    });

    it('should answer not allowed on another resource', async () => {
      const res = await admin.get('/policies/note/explain?subject=bob&permission=CanWrite&resource=43').expect(200);
      expect(res.body).toEqual({ allowed: false, resource: '43', because: [] });
    });

    it('should list type-wide paths and resource paths together', async () => {
      const res = await admin.get('/policies/note/explain?subject=susan&permission=CanRead&resource=42').expect(200);
      expect(res.body.allowed).toBe(true);
      expect(res.body.because).toEqual(
        expect.arrayContaining([
          { via: 'role', role: 'reader', permission: 'CanRead' },
          { via: 'resource-role', resource: '42', role: 'editor', permission: 'CanRead' },
        ]),
      );
      expect(res.body.because).toHaveLength(2);
    });

    it('should answer 400 naming resource for a malformed resource', async () => {
      const res = await admin.get('/policies/note/explain?subject=bob&permission=CanWrite&resource=4%002').expect(400);
      expect(res.body).toEqual({ statusCode: 400, error: 'Bad Request', message: 'resource must not contain control characters', field: 'resource' });
    });

    it('should answer 404 for an unknown policy', async () => {
      await admin.get('/policies/nope/explain?subject=bob&permission=CanWrite&resource=42').expect(404);
    });
  });

  describe('when reading the audit trail of a resource', () => {
    it('should show each grant, revoke and drop on it with the actor, before and after, and nothing of other resources', async () => {
      const after = await lastAuditId(store);
      await admin.put('/policies/note/resources/42/subjects/bob/roles/editor').expect(204);
      await admin.put('/policies/note/resources/43/subjects/bob/roles/editor').expect(204);
      await admin.put('/policies/note/subjects/bob/roles/reader').expect(204);
      await admin.delete('/policies/note/resources/42/subjects/bob/roles/editor').expect(204);
      await admin.put('/policies/note/resources/42/subjects/susan/roles/reader').expect(204);
      await admin.delete('/policies/note/resources/42').expect(204);
      const res = await admin.get(`/audit?policy=note&resource=42&after=${after}`).expect(200);
      const entry = (action: string, target: object, from: object, to: object) => ({ id: expect.any(Number), at: expect.any(String), actor: 'carol', action, policy: 'note', target, before: from, after: to, revision: expect.any(Number) });
      expect(res.body).toEqual({
        entries: [
          entry('grant-resource-role', { resource: '42', subject: 'bob' }, { roles: [] }, { roles: ['editor'] }),
          entry('revoke-resource-role', { resource: '42', subject: 'bob' }, { roles: ['editor'] }, { roles: [] }),
          entry('grant-resource-role', { resource: '42', subject: 'susan' }, { roles: [] }, { roles: ['reader'] }),
          entry('delete-resource', { resource: '42' }, { subjects: { susan: ['reader'] } }, { subjects: {} }),
        ],
      });
      const ids = res.body.entries.map((e: { id: number }) => e.id);
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
    });

    it('should combine the resource filter with subject and paging', async () => {
      const after = await lastAuditId(store);
      await admin.put('/policies/note/resources/42/subjects/bob/roles/editor').expect(204);
      await admin.put('/policies/note/resources/42/subjects/susan/roles/reader').expect(204);
      await admin.put('/policies/note/resources/42/subjects/bob/roles/reader').expect(204);
      const bob = await admin.get(`/audit?resource=42&subject=bob&after=${after}`).expect(200);
      expect(bob.body.entries.map((e: { target: unknown }) => e.target)).toEqual([
        { resource: '42', subject: 'bob' },
        { resource: '42', subject: 'bob' },
      ]);
      const page = await admin.get(`/audit?resource=42&after=${after}&limit=2`).expect(200);
      expect(page.body.entries).toHaveLength(2);
      expect(page.body.next).toBe(page.body.entries[1].id);
      const rest = await admin.get(`/audit?resource=42&after=${page.body.next}&limit=2`).expect(200);
      expect(rest.body.entries.map((e: { target: unknown }) => e.target)).toEqual([{ resource: '42', subject: 'bob' }]);
      expect(rest.body).not.toHaveProperty('next');
    });

    it('should answer 400 naming resource for a malformed resource filter', async () => {
      const res = await admin.get('/audit?resource=*').expect(400);
      expect(res.body).toEqual({ statusCode: 400, error: 'Bad Request', message: `resource ${STAR_MESSAGE}`, field: 'resource' });
    });
  });

  describe('when the caller is no administrator', () => {
    it('should refuse every resource route with 403, writing nothing', async () => {
      await admin.put('/policies/note/resources/42/subjects/susan/roles/reader').expect(204);
      const before = await storeState(store);
      const dave = admin.as('dave');
      const answers = await Promise.all([
        dave.get('/policies/note/resources/42'),
        dave.put('/policies/note/resources/42/subjects/dave/roles/editor'),
        dave.delete('/policies/note/resources/42/subjects/susan/roles/reader'),
        dave.delete('/policies/note/resources/42'),
        dave.get('/policies/note/subjects/susan/resources'),
        dave.get('/policies/note/explain?subject=susan&permission=CanRead&resource=42'),
        dave.get('/audit?resource=42'),
      ]);
      expect(answers.map((res) => res.status)).toEqual(answers.map(() => 403));
      expect(answers[1].body).toMatchObject({ statusCode: 403, policy: 'authz', missingPermissions: ['CanAdminister'] });
      expect(await storeState(store)).toEqual(before);
    });

    it('should refuse an administrator whose token lacks the scope, and a caller without a token', async () => {
      await admin.as('carol', ['notes:read']).put('/policies/note/resources/42/subjects/carol/roles/editor').expect(403);
      await admin.anonymous().get('/policies/note/resources/42').expect(401);
    });

    it('should not count a resource grant in policy authz as administering', async () => {
      await admin.put('/policies/authz/resources/42/subjects/dave/roles/administrator').expect(204);
      await admin.as('dave').get('/policies/note/resources/42').expect(403);
    });
  });
});

describe('the admin API for resource grants on the PostgreSQL store (PGlite)', () => {
  let database: TestDatabase;
  let store: PolicyStore;
  let app: INestApplication;
  let admin: AdminClient;

  beforeAll(async () => {
    database = await pgliteDatabase();
    store = await openStore(database);
    await store.edit(
      Object.entries(seedPolicies()).map(([policy, document]) => ({ kind: 'put-policy' as const, policy, document })),
      { actor: 'test' },
    );
    app = await createAdminApp('express', { store });
    admin = new AdminClient(app);
  });

  afterAll(async () => {
    await app?.close();
    await database?.dispose();
  });

  it('should grant, read, page, explain, audit and drop as on the in-memory store', async () => {
    const after = await lastAuditId(store);
    const granted = await admin.put('/policies/note/resources/42/subjects/bob/roles/editor').expect(204);
    await admin.put('/policies/note/resources/43/subjects/bob/roles/reader').expect(204);
    const current = (await admin.get('/policies/note').expect(200)).headers.etag as string;
    expect(revisionOf(current)).toBeGreaterThan(revisionOf(granted.headers.etag));
    const again = await admin.put('/policies/note/resources/42/subjects/bob/roles/editor').set('If-Match', current).expect(204);
    expect(again.headers.etag).toBe(current);

    const read = await admin.get('/policies/note/resources/42').expect(200);
    expect(read.body).toEqual({ policy: 'note', resource: '42', revision: revisionOf(read.headers.etag), subjects: { bob: ['editor'] } });

    const page = await admin.get('/policies/note/subjects/bob/resources?limit=1').expect(200);
    expect(page.body).toEqual({ policy: 'note', subject: 'bob', resources: [{ resource: '42', roles: ['editor'] }], next: '42' });
    const rest = await admin.get('/policies/note/subjects/bob/resources?after=42&limit=1').expect(200);
    expect(rest.body.resources).toEqual([{ resource: '43', roles: ['reader'] }]);

    expect((await admin.get('/policies/note/explain?subject=bob&permission=CanWrite&resource=42').expect(200)).body).toEqual({
      allowed: true,
      resource: '42',
      because: [{ via: 'resource-role', resource: '42', role: 'editor', permission: 'CanWrite' }],
    });
    expect((await admin.get('/policies/note/explain?subject=bob&permission=CanWrite').expect(200)).body).toEqual({ allowed: false, because: [] });

    await admin.put('/policies/note/resources/42/subjects/bob/roles/owner').expect(404);
    await admin.put('/policies/note/resources/42/subjects/susan/roles/reader').set('If-Match', granted.headers.etag).expect(409);
    await admin.get('/policies/nope/resources/42').expect(404);
    await admin.get('/policies/nope/subjects/bob/resources').expect(404);

    await admin.delete('/policies/note/resources/42').expect(204);
    expect((await admin.get('/policies/note/resources/42').expect(200)).body.subjects).toEqual({});

    const audit = await admin.get(`/audit?resource=42&after=${after}`).expect(200);
    expect(audit.body.entries.map((entry: { actor: string; action: string; target: unknown }) => [entry.actor, entry.action, entry.target])).toEqual([
      ['carol', 'grant-resource-role', { resource: '42', subject: 'bob' }],
      ['carol', 'delete-resource', { resource: '42' }],
    ]);
  });
});
