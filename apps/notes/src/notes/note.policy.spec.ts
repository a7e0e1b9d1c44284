import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Test } from '@nestjs/testing';
import { AuthzModule, policyFileText, PolicyService, PolicyStore, readPolicyFiles, type AuthzIdentity, type PolicyFile } from 'nestjs-authz';
import { TestTokenIssuer } from 'nestjs-authz/testing';
import { NOTES_POLICY_DIR } from '../authz/notes-policy-store';
import { NOTE_POLICY, NotePermission, OWNER_ROLE, SHARE_ROLES } from './note.policy';

const ALL = Object.values(NotePermission);
const NOTE = '00000000-0000-4000-8000-00000000000a';
const OTHER_NOTE = '00000000-0000-4000-8000-00000000000b';
const identity = (subject: string, roles: string[] = []): AuthzIdentity => ({
  subject,
  issuer: 'https://issuer.test/',
  audience: ['notes-api'],
  scopes: ['notes:read', 'notes:write'],
  roles,
  claims: { sub: subject, roles },
});

// The demo policy file (apps/notes/policies/note.json) as the issue specifies it, through the library's default PolicyService.
describe('the note policy', () => {
  let policies: PolicyService;
  let files: PolicyFile[];

  beforeAll(async () => {
    files = await readPolicyFiles(NOTES_POLICY_DIR);
    const note = files.find((file) => file.policy === NOTE_POLICY)!;
    const moduleRef = await Test.createTestingModule({
      imports: [AuthzModule.forRoot(TestTokenIssuer.create({ audience: 'notes-api' }).moduleOptions({ defaultPolicy: NOTE_POLICY, policies: { [NOTE_POLICY]: note.document } }))],
    }).compile();
    policies = moduleRef.get(PolicyService);
    // As the app writes them: alice created the note (owner), and shared it with bob (reader) and erin (editor).
    await moduleRef.get(PolicyStore).edit(
      [
        { kind: 'grant-resource-role', policy: NOTE_POLICY, resource: NOTE, subject: 'alice', role: OWNER_ROLE },
        { kind: 'grant-resource-role', policy: NOTE_POLICY, resource: NOTE, subject: 'bob', role: SHARE_ROLES.reader },
        { kind: 'grant-resource-role', policy: NOTE_POLICY, resource: NOTE, subject: 'erin', role: SHARE_ROLES.editor },
      ],
      { actor: 'test' },
    );
  });

  it('should be the one file in apps/notes/policies, written as `npm run policy -- export` writes it', async () => {
    expect(files.map((file) => file.file)).toEqual([join(NOTES_POLICY_DIR, 'note.json')]);
    expect(await readFile(files[0].file, 'utf8')).toBe(policyFileText(files[0].document));
  });

  it.each([
    ['susan (reader, plus CanReadConfidentialNotes directly)', identity('susan'), ['CanRead', 'CanReadConfidentialNotes']],
    ['alice (writer)', identity('alice'), ['CanRead', 'CanWrite']],
    ['bob (nothing)', identity('bob'), []],
    ['carol without an identity role (no grant of her own)', identity('carol'), []],
    ['carol with the identity role notes-admin (moderator)', identity('carol', ['notes-admin']), ALL],
    ['anyone with the identity role notes-admin', identity('dave', ['notes-admin']), ALL],
    ['an identity role the policy does not map', identity('erin', ['admin']), []],
  ])('should grant %s exactly what the issue lists', async (_who, who, expected) => {
    expect([...(await policies.permissionsOf(NOTE_POLICY, who, ALL))].sort()).toEqual([...expected].sort());
  });

  it.each([
    ['alice, its owner', identity('alice'), ['CanDelete', 'CanEdit', 'CanRead', 'CanReadConfidentialNotes', 'CanShare', 'CanWrite']],
    ['bob, a shared reader (nothing type-wide)', identity('bob'), ['CanRead', 'CanReadConfidentialNotes']],
    ['erin, a shared editor', identity('erin'), ['CanEdit', 'CanRead', 'CanReadConfidentialNotes']],
    ['susan, who holds no role on it', identity('susan'), ['CanRead', 'CanReadConfidentialNotes']],
    ['a moderator, who holds every permission on every note', identity('dave', ['notes-admin']), ALL],
  ])('should grant %s on the shared note what the issue lists', async (_who, who, expected) => {
    expect([...(await policies.permissionsOf(NOTE_POLICY, who, ALL, { resource: NOTE }))].sort()).toEqual([...expected].sort());
  });

  it('should keep resource roles to their note: alice owns no other note, and bob reads no other', async () => {
    expect([...(await policies.permissionsOf(NOTE_POLICY, identity('alice'), ALL, { resource: OTHER_NOTE }))].sort()).toEqual(['CanRead', 'CanWrite']);
    expect(await policies.hasPermission(NOTE_POLICY, identity('bob'), 'CanRead', { resource: OTHER_NOTE })).toBe(false);
    expect([...(await policies.allowedResources(NOTE_POLICY, identity('bob'), 'CanReadConfidentialNotes', [NOTE, OTHER_NOTE]))]).toEqual([NOTE]);
  });

  it('should not let a token claim grant permissions: only identity roles are read from it', async () => {
    const claimsEverything = { ...identity('bob'), claims: { sub: 'bob', permissions: ALL, scope: 'notes:read notes:write' } };
    expect(await policies.hasPermission(NOTE_POLICY, claimsEverything, 'CanRead')).toBe(false);
  });
});
