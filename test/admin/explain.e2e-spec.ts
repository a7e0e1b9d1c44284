import type { INestApplication } from '@nestjs/common';
import { InMemoryPolicyStore } from 'nestjs-authz';
import { ADAPTERS } from '../support/app';
import { AdminClient, createAdminApp } from './support/admin-app';
import { authzPolicy } from './support/seed';

// "Why may susan do this?": every grant path, as the default PolicyService would find it.

describe.each(ADAPTERS)('GET /policies/:policy/explain on %s', (adapter) => {
  let app: INestApplication;
  let admin: AdminClient;

  beforeAll(async () => {
    const store = new InMemoryPolicyStore({
      authz: authzPolicy,
      note: {
        roles: { reader: ['CanRead'], moderator: ['*'], auditor: ['CanRead', 'CanAudit'] },
        subjects: {
          susan: { roles: ['reader'], permissions: ['CanReadConfidentialNotes', 'CanRead'] },
          root: { permissions: ['*'] },
        },
        identityRoles: { 'notes-admin': ['moderator'], staff: ['reader', 'auditor'] },
      },
    });
    app = await createAdminApp(adapter, { store });
    admin = new AdminClient(app);
  });

  afterAll(async () => {
    await app.close();
  });

  const explain = (query: string) => admin.get(`/policies/note/explain?${query}`);

  describe('when the subject holds the permission', () => {
    it.each([
      ['a direct permission', 'subject=susan&permission=CanReadConfidentialNotes', [{ via: 'permission', permission: 'CanReadConfidentialNotes' }]],
      [
        'a direct permission and a role at once',
        'subject=susan&permission=CanRead',
        [
          { via: 'permission', permission: 'CanRead' },
          { via: 'role', role: 'reader', permission: 'CanRead' },
        ],
      ],
      ['an identity role mapped to a wildcard role', 'subject=bob&permission=CanDelete&roles=notes-admin', [{ via: 'identity-role', identityRole: 'notes-admin', role: 'moderator', permission: '*' }]],
      [
        'an identity role mapped to two roles',
        'subject=bob&permission=CanRead&roles=guest,staff',
        [
          { via: 'identity-role', identityRole: 'staff', role: 'reader', permission: 'CanRead' },
          { via: 'identity-role', identityRole: 'staff', role: 'auditor', permission: 'CanRead' },
        ],
      ],
      ['a direct wildcard grant', 'subject=root&permission=CanPurge', [{ via: 'permission', permission: '*' }]],
      ['the wildcard itself, asked about', 'subject=root&permission=*', [{ via: 'permission', permission: '*' }]],
    ])('should answer allowed with the grant path for %s', async (_case, query, because) => {
      const res = await explain(query).expect(200);
      expect(res.body).toEqual({ allowed: true, because });
    });
  });

  describe('when the subject does not hold the permission', () => {
    it.each([
      ['a subject without grants', 'subject=bob&permission=CanRead'],
      ['a subject with other permissions', 'subject=susan&permission=CanDelete'],
      ['an identity role the policy does not map', 'subject=bob&permission=CanRead&roles=guest'],
      ['the wildcard, asked of ordinary grants', 'subject=susan&permission=*'],
      ['identity roles not passed (they come from tokens)', 'subject=bob&permission=CanDelete'],
    ])('should answer not allowed and no path for %s', async (_case, query) => {
      const res = await explain(query).expect(200);
      expect(res.body).toEqual({ allowed: false, because: [] });
    });
  });

  describe('when the question is incomplete or invalid', () => {
    it.each([
      ['no subject', 'permission=CanRead', 'subject', 'subject is required'],
      ['no permission', 'subject=susan', 'permission', 'permission is required'],
      ['an empty subject', 'subject=&permission=CanRead', 'subject', 'subject must not be empty'],
      ['a * subject', 'subject=*&permission=CanRead', 'subject', "subject must not contain '*' (only a permission may be '*', meaning every permission of its policy)"],
      ['a NUL in an identity role', 'subject=bob&permission=CanRead&roles=staff,a%00b', 'roles[1]', 'roles[1] must not contain control characters'],
      ['an unknown query field', 'subject=bob&permission=CanRead&colour=red', 'colour', 'property colour should not exist'],
      ['a repeated subject', 'subject=bob&subject=eve&permission=CanRead', 'subject', 'subject must be a string'],
    ])('should answer 400 naming the field for %s', async (_case, query, field, message) => {
      const res = await explain(query).expect(400);
      expect(res.body).toEqual({ statusCode: 400, error: 'Bad Request', message, field });
    });

    it('should answer 404 for an unknown policy', async () => {
      const res = await admin.get('/policies/nope/explain?subject=susan&permission=CanRead').expect(404);
      expect(res.body.message).toBe("Policy 'nope' does not exist");
    });
  });
});
