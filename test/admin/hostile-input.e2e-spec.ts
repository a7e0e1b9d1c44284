import type { INestApplication } from '@nestjs/common';
import type { InMemoryPolicyStore } from 'nestjs-authz';
import type request from 'supertest';
import { ADAPTERS } from '../support/app';
import { AdminClient, createAdminApp } from './support/admin-app';
import { seededStore } from './support/seed';
import { storeState } from './support/store-state';

// Whatever an administrator's client sends, a bad request is a 400 (or the platform's 413) that names the field,
// and nothing is written.

const LONG = 'x'.repeat(10_000);
const MANY = (count: number) => Array.from({ length: count }, (_, index) => `P${index}`);
const STAR_MESSAGE = "must not contain '*' (only a permission may be '*', meaning every permission of its policy)";

interface HostileCase {
  readonly send: (admin: AdminClient) => request.Test;
  readonly status: number;
  /** The field the 400 names, and the start of its message. */
  readonly field?: string;
  readonly message?: string;
}

const cases: Record<string, HostileCase> = {
  // Sizes
  'a 2 MB policy document': { send: (admin) => admin.put('/policies/note', { roles: { reader: ['x'.repeat(2_000_000)] } }), status: 413 },
  'a 2 MB role body': { send: (admin) => admin.put('/policies/note/roles/reader', { permissions: ['x'.repeat(2_000_000)] }), status: 413 },
  'a 10k-character subject in the path': { send: (admin) => admin.put(`/policies/note/subjects/${LONG}/roles/reader`), status: 400, field: 'subject', message: 'subject must be at most 255 characters' },
  'a 10k-character policy in the path': { send: (admin) => admin.put(`/policies/${LONG}`, {}), status: 400, field: 'policy', message: 'policy must be at most 255 characters' },
  'a 10k-character permission in the path': { send: (admin) => admin.put(`/policies/note/subjects/bob/permissions/${LONG}`), status: 400, field: 'permission' },
  'a 10k-character role in a role mapping': { send: (admin) => admin.put('/policies/note/identity-roles/staff', { roles: [LONG] }), status: 400, field: 'roles[0]', message: 'roles[0] must be at most 255 characters' },
  'a 10k-character permission in a document': { send: (admin) => admin.put('/policies/note', { roles: { reader: [LONG] } }), status: 400, field: 'roles.reader[0]' },
  '1001 permissions of a role': { send: (admin) => admin.put('/policies/note/roles/reader', { permissions: MANY(1001) }), status: 400, field: 'permissions', message: 'permissions must hold at most 1000 items, not 1001' },
  '1001 roles of an identity role': { send: (admin) => admin.put('/policies/note/identity-roles/staff', { roles: MANY(1001) }), status: 400, field: 'roles' },
  '1001 permissions of a role in a document': { send: (admin) => admin.put('/policies/note', { roles: { reader: MANY(1001) } }), status: 400, field: 'roles.reader', message: 'roles.reader must hold at most 1000 items' },
  '1001 permissions of a subject in a document': {
    send: (admin) => admin.put('/policies/note', { subjects: { bob: { permissions: MANY(1001) } } }),
    status: 400,
    field: 'subjects.bob.permissions',
  },
  // Control characters and spaces
  'a NUL in a role in the path': { send: (admin) => admin.put('/policies/note/subjects/bob/roles/read%00er'), status: 400, field: 'role', message: 'role must not contain control characters' },
  'a NUL in a subject in the path': { send: (admin) => admin.delete('/policies/note/subjects/b%00b/permissions/CanRead'), status: 400, field: 'subject' },
  'a newline in an identity role in the path': { send: (admin) => admin.delete('/policies/note/identity-roles/staff%0A'), status: 400, field: 'identityRole', message: 'identityRole must not contain control characters' },
  'a NUL in a permission of a body': { send: (admin) => admin.put('/policies/note/roles/reader', { permissions: ['CanRead', 'Can\u0000Read'] }), status: 400, field: 'permissions[1]' },
  'a NUL in a permission of a document': { send: (admin) => admin.put('/policies/note', { subjects: { bob: { permissions: ['\u0000'] } } }), status: 400, field: 'subjects.bob.permissions[0]' },
  'a role with a trailing space in the path': { send: (admin) => admin.put('/policies/note/subjects/bob/roles/reader%20'), status: 400, field: 'role', message: 'role must not start or end with spaces' },
  // Wildcards where only a permission may be one
  '* as a role in the path': { send: (admin) => admin.put('/policies/note/subjects/bob/roles/*'), status: 400, field: 'role', message: `role ${STAR_MESSAGE}` },
  '* as a subject in the path': { send: (admin) => admin.put('/policies/note/subjects/*/roles/reader'), status: 400, field: 'subject', message: `subject ${STAR_MESSAGE}` },
  '* as a policy in the path': { send: (admin) => admin.put('/policies/*', {}), status: 400, field: 'policy' },
  '* in a role name being defined': { send: (admin) => admin.put('/policies/note/roles/admin*', { permissions: ['*'] }), status: 400, field: 'role' },
  '* as an identity role in the path': { send: (admin) => admin.put('/policies/note/identity-roles/*', { roles: ['reader'] }), status: 400, field: 'identityRole' },
  '* as a role of a role mapping': { send: (admin) => admin.put('/policies/note/identity-roles/staff', { roles: ['*'] }), status: 400, field: 'roles[0]' },
  '* as a subject in a document': { send: (admin) => admin.put('/policies/note', { subjects: { '*': { permissions: ['CanRead'] } } }), status: 400, field: 'subjects.*' },
  // Unknown fields and wrong types
  'an unknown field in a role body': { send: (admin) => admin.put('/policies/note/roles/reader', { permissions: [], inherits: ['editor'] }), status: 400, field: 'inherits', message: 'property inherits should not exist' },
  'an unknown part of a policy document': { send: (admin) => admin.put('/policies/note', { roles: {}, colour: 'red' }), status: 400, field: 'colour', message: 'colour is not a part of a policy' },
  'an unknown part of subject grants': { send: (admin) => admin.put('/policies/note', { subjects: { bob: { grants: [] } } }), status: 400, field: 'subjects.bob.grants' },
  'permissions as a string': { send: (admin) => admin.put('/policies/note/roles/reader', { permissions: 'CanRead' }), status: 400, field: 'permissions', message: 'permissions must be a list of names' },
  'a number in the permissions': { send: (admin) => admin.put('/policies/note/roles/reader', { permissions: [42] }), status: 400, field: 'permissions[0]', message: 'permissions[0] must be a string' },
  'an object in the roles of a mapping': { send: (admin) => admin.put('/policies/note/identity-roles/staff', { roles: [{ name: 'reader' }] }), status: 400, field: 'roles[0]' },
  'a missing permissions field': { send: (admin) => admin.put('/policies/note/roles/reader', {}), status: 400, field: 'permissions', message: 'permissions is required' },
  'a JSON array as a role body': { send: (admin) => admin.put('/policies/note/roles/reader', ['CanRead']), status: 400, field: 'body', message: 'body must be a JSON object' },
  'a JSON array as a policy document': { send: (admin) => admin.put('/policies/note', [{ roles: {} }]), status: 400, field: 'body' },
  'no body for a policy document': { send: (admin) => admin.put('/policies/note'), status: 400, field: 'body' },
  'roles as a list in a document': { send: (admin) => admin.put('/policies/note', { roles: ['reader'] }), status: 400, field: 'roles' },
  'a plain-text body for a policy document': { send: (admin) => admin.put('/policies/note').set('Content-Type', 'text/plain').send('roles: {}'), status: 400, field: 'body' },
  // Headers and queries
  'an If-Match that is no revision': { send: (admin) => admin.put('/policies/note/subjects/bob/roles/reader').set('If-Match', '"abc"'), status: 400, field: 'If-Match' },
  'an If-Match list': { send: (admin) => admin.delete('/policies/note/roles/unused').set('If-Match', '"1", "2"'), status: 400, field: 'If-Match' },
  'an If-Match of *': { send: (admin) => admin.put('/policies/note', {}).set('If-Match', '*'), status: 400, field: 'If-Match' },
  'an audit limit of 0': { send: (admin) => admin.get('/audit?limit=0'), status: 400, field: 'limit', message: 'limit must be a whole number from 1 to 1000' },
  'an audit limit of 1001': { send: (admin) => admin.get('/audit?limit=1001'), status: 400, field: 'limit' },
  'an audit limit that is no number': { send: (admin) => admin.get('/audit?limit=ten'), status: 400, field: 'limit' },
  'an audit limit in exponent form': { send: (admin) => admin.get('/audit?limit=1e3'), status: 400, field: 'limit' },
  'a negative audit after': { send: (admin) => admin.get('/audit?after=-1'), status: 400, field: 'after', message: 'after must be a whole number from 0 to 9007199254740991' },
  'a huge audit after': { send: (admin) => admin.get(`/audit?after=${'9'.repeat(400)}`), status: 400, field: 'after' },
  'an unknown audit query field': { send: (admin) => admin.get('/audit?actor=carol'), status: 400, field: 'actor', message: 'property actor should not exist' },
  'a * subject in the audit query': { send: (admin) => admin.get('/audit?subject=*'), status: 400, field: 'subject' },
  'a NUL in a resource of the audit query': { send: (admin) => admin.get('/audit?resource=4%002'), status: 400, field: 'resource', message: 'resource must not contain control characters' },
  // Resource grants
  'a 10k-character resource in the path': { send: (admin) => admin.put(`/policies/note/resources/${LONG}/subjects/bob/roles/reader`), status: 400, field: 'resource', message: 'resource must be at most 255 characters' },
  'a NUL in a resource in the path': { send: (admin) => admin.delete('/policies/note/resources/4%002'), status: 400, field: 'resource', message: 'resource must not contain control characters' },
  '* as a resource in the path': { send: (admin) => admin.put('/policies/note/resources/*/subjects/bob/roles/reader'), status: 400, field: 'resource', message: `resource ${STAR_MESSAGE}` },
  'a resource with a leading space in the path': { send: (admin) => admin.get('/policies/note/resources/%2042'), status: 400, field: 'resource', message: 'resource must not start or end with spaces' },
  '* as a role on a resource': { send: (admin) => admin.put('/policies/note/resources/42/subjects/bob/roles/*'), status: 400, field: 'role' },
  'a NUL in a subject on a resource': { send: (admin) => admin.delete('/policies/note/resources/42/subjects/b%00b/roles/reader'), status: 400, field: 'subject' },
  'a resource page limit of 0': { send: (admin) => admin.get('/policies/note/subjects/susan/resources?limit=0'), status: 400, field: 'limit', message: 'limit must be a whole number from 1 to 1000' },
  'a resource page limit of 1001': { send: (admin) => admin.get('/policies/note/subjects/susan/resources?limit=1001'), status: 400, field: 'limit' },
  'an empty resource page after': { send: (admin) => admin.get('/policies/note/subjects/susan/resources?after='), status: 400, field: 'after', message: 'after must not be empty' },
  'a repeated resource page after': { send: (admin) => admin.get('/policies/note/subjects/susan/resources?after=1&after=2'), status: 400, field: 'after', message: 'after must be a string' },
  'an unknown resource page query field': { send: (admin) => admin.get('/policies/note/subjects/susan/resources?role=owner'), status: 400, field: 'role', message: 'property role should not exist' },
  'a * resource to explain on': { send: (admin) => admin.get('/policies/note/explain?subject=susan&permission=CanRead&resource=*'), status: 400, field: 'resource' },
};

describe.each(ADAPTERS)('hostile input to the admin API on %s', (adapter) => {
  let app: INestApplication;
  let store: InMemoryPolicyStore;
  let admin: AdminClient;

  beforeAll(async () => {
    store = seededStore();
    app = await createAdminApp(adapter, { store });
    admin = new AdminClient(app);
  });

  afterAll(async () => {
    await app.close();
  });

  describe.each(Object.entries(cases))('when the request has %s', (_case, { send, status, field, message }) => {
    it(`should answer ${status}${field ? ` naming ${field}` : ''} and write nothing`, async () => {
      const before = await storeState(store);
      const res = await send(admin);
      expect(res.status).toBe(status);
      if (field !== undefined) {
        expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request', field });
        expect(res.body.message.startsWith(message ?? field)).toBe(true);
      }
      expect(await storeState(store)).toEqual(before);
    });
  });

  describe('when a name is at the limit of 255 characters', () => {
    it('should accept it in the path', async () => {
      const subject = 's'.repeat(255);
      await admin.put(`/policies/note/subjects/${subject}/roles/reader`).expect(204);
      expect((await admin.get(`/policies/note/subjects/${subject}`).expect(200)).body.roles).toEqual(['reader']);
    });

    it('should accept a resource of 255 characters, and refuse one of 256', async () => {
      const resource = 'r'.repeat(255);
      await admin.put(`/policies/note/resources/${resource}/subjects/bob/roles/reader`).expect(204);
      expect((await admin.get(`/policies/note/resources/${resource}`).expect(200)).body.subjects).toEqual({ bob: ['reader'] });
      const res = await admin.get(`/policies/note/resources/${resource}r`).expect(400);
      expect(res.body).toMatchObject({ field: 'resource', message: 'resource must be at most 255 characters' });
    });
  });

  describe('when a name looks like an object key (__proto__, constructor)', () => {
    it('should keep it a plain name', async () => {
      await admin.put('/policies/note/subjects/__proto__/roles/reader').expect(204);
      await admin.put('/policies/note/roles/constructor', { permissions: ['CanRead'] }).expect(204);
      const { document } = (await admin.get('/policies/note').expect(200)).body;
      expect(Object.keys(document.subjects)).toContain('__proto__');
      expect(document.roles.constructor).toEqual(['CanRead']);
      expect(({} as Record<string, unknown>).reader).toBeUndefined();
    });
  });
});
