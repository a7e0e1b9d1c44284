import type { INestApplication } from '@nestjs/common';
import type { InMemoryPolicyStore } from 'nestjs-authz';
import { ADAPTERS } from '../support/app';
import { AdminClient, createAdminApp } from './support/admin-app';
import { notePolicy, seededStore, seedPolicies } from './support/seed';

// Reading a large policy in parts: its roles without its subjects, its subjects in pages with a prefix search, and
// the audit trail newest first (what the console shows).

describe.each(ADAPTERS)('the admin API for large policies on %s', (adapter) => {
  let app: INestApplication;
  let store: InMemoryPolicyStore;
  let admin: AdminClient;

  beforeAll(async () => {
    store = seededStore();
    app = await createAdminApp(adapter, { store });
    admin = new AdminClient(app);
  });

  beforeEach(() => store.replace(seedPolicies()));

  afterAll(async () => {
    await app.close();
  });

  describe('when reading a policy without its subjects', () => {
    it('should answer roles and identity roles with the revision as ETag, and no subjects', async () => {
      const res = await admin.get('/policies/note/roles').expect(200);
      expect(res.body).toEqual({ policy: 'note', revision: expect.any(Number), roles: notePolicy.roles, identityRoles: notePolicy.identityRoles });
      expect(res.headers.etag).toBe(`"${res.body.revision}"`);
    });

    it('should answer 404 for an unknown policy', async () => {
      await admin.get('/policies/nope/roles').expect(404);
    });
  });

  describe('when paging subjects', () => {
    beforeEach(async () => {
      const subjects = Array.from({ length: 25 }, (_, index) => `user-${String(index).padStart(2, '0')}`);
      await store.edit(subjects.map((subject) => ({ kind: 'grant-role', policy: 'note', subject, role: 'reader' }) as const), { actor: 'test' });
    });

    it('should give pages in code-unit order with `next` while full, and the last page without it', async () => {
      const first = await admin.get('/policies/note/subjects?limit=10').expect(200);
      expect(first.body.subjects.map((entry: { subject: string }) => entry.subject)).toEqual(['alice', 'susan', ...Array.from({ length: 8 }, (_, index) => `user-0${index}`)]);
      expect(first.body).toMatchObject({ policy: 'note', revision: expect.any(Number), next: 'user-07' });
      expect(first.body.subjects[1]).toEqual({ subject: 'susan', roles: ['reader'], permissions: ['CanReadConfidentialNotes'] });
      const seen = [...first.body.subjects];
      let next: string | undefined = first.body.next;
      while (next !== undefined) {
        const page = await admin.get(`/policies/note/subjects?limit=10&after=${encodeURIComponent(next)}`).expect(200);
        seen.push(...page.body.subjects);
        next = page.body.next;
      }
      expect(seen).toHaveLength(27);
      expect(new Set(seen.map((entry) => entry.subject)).size).toBe(27);
    });

    it('should search by prefix', async () => {
      const res = await admin.get('/policies/note/subjects?prefix=user-1').expect(200);
      expect(res.body.subjects.map((entry: { subject: string }) => entry.subject)).toEqual(Array.from({ length: 10 }, (_, index) => `user-1${index}`));
      expect(res.body.next).toBeUndefined();
    });

    it.each([
      ['limit=0', 'limit'],
      ['limit=1001', 'limit'],
      ['limit=ten', 'limit'],
      ['after=%20x', 'after'],
      ['prefix=a%00b', 'prefix'],
    ])('should refuse %s with 400 naming the field', async (query, field) => {
      const res = await admin.get(`/policies/note/subjects?${query}`).expect(400);
      expect(res.body.field).toBe(field);
    });

    it('should answer 404 for an unknown policy', async () => {
      await admin.get('/policies/nope/subjects').expect(404);
    });
  });

  describe('when reading the audit trail newest first', () => {
    it('should give entries newest first, paged with `before`', async () => {
      for (const subject of ['a1', 'a2', 'a3']) await admin.put(`/policies/note/subjects/${subject}/roles/reader`).expect(204);
      const oldest = await admin.get('/audit?policy=note&limit=1000').expect(200);
      const newest = await admin.get('/audit?policy=note&order=newest-first&limit=2').expect(200);
      const ids = oldest.body.entries.map((entry: { id: number }) => entry.id).reverse();
      expect(newest.body.entries.map((entry: { id: number }) => entry.id)).toEqual(ids.slice(0, 2));
      expect(newest.body.entries[0]).toMatchObject({ actor: 'carol', action: 'grant-role', target: { subject: 'a3' } });
      expect(newest.body.next).toBe(ids[1]);
      const older = await admin.get(`/audit?policy=note&order=newest-first&before=${newest.body.next}&limit=2`).expect(200);
      expect(older.body.entries.map((entry: { id: number }) => entry.id)).toEqual(ids.slice(2, 4));
    });

    it.each([
      ['order=sideways', 'order'],
      ['before=0', 'before'],
      ['before=-1', 'before'],
    ])('should refuse %s with 400 naming the field', async (query, field) => {
      const res = await admin.get(`/audit?${query}`).expect(400);
      expect(res.body.field).toBe(field);
    });
  });
});
