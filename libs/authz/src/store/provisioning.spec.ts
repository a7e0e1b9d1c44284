import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InMemoryPolicyStore } from './in-memory-policy-store';
import type { EditOptions, EditResult, PolicyEdit } from './policy-edit';
import {
  applyPolicyPlan,
  createMissingPolicies,
  describePlan,
  diffPolicies,
  exportPolicies,
  planCounts,
  planPolicies,
  PolicyFileError,
  policyFileText,
  readPolicyFiles,
} from './provisioning';
import { RevisionConflictError } from './store-errors';

const note = {
  roles: { reader: ['CanRead'], writer: ['CanRead', 'CanWrite'] },
  subjects: { susan: { roles: ['reader'], permissions: ['CanReadConfidentialNotes'] }, alice: { roles: ['writer'] } },
  identityRoles: { 'notes-admin': ['writer'] },
};
const authz = { roles: { administrator: ['CanAdminister'] }, subjects: { carol: { roles: ['administrator'] } } };

/** An InMemoryPolicyStore that records its edit calls. */
class RecordingStore extends InMemoryPolicyStore {
  readonly calls: PolicyEdit[][] = [];
  override edit(edits: readonly PolicyEdit[], options: EditOptions): Promise<EditResult> {
    this.calls.push([...edits]);
    return super.edit(edits, options);
  }
}

describe('provisioning', () => {
  let dir: string;
  const write = async (name: string, text: string) => {
    await writeFile(join(dir, name), text);
    return join(dir, name);
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'authz-provisioning-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  describe('readPolicyFiles', () => {
    it('should read one JSON file as the policy named by its base name, normalised', async () => {
      const file = await write('note.json', JSON.stringify({ roles: { reader: ['CanRead', 'CanRead'] }, subjects: { bob: {} } }));
      expect(await readPolicyFiles(file)).toEqual([{ policy: 'note', file, document: { roles: { reader: ['CanRead'] }, subjects: {}, identityRoles: {} } }]);
    });

    it('should read YAML (.yaml and .yml) like JSON', async () => {
      await write('note.yaml', 'roles:\n  reader: [CanRead]\nsubjects:\n  susan:\n    roles: [reader]\n');
      await write('authz.yml', 'roles:\n  administrator:\n    - CanAdminister\n');
      const files = await readPolicyFiles(dir);
      expect(files.map(({ policy, document }) => ({ policy, document }))).toEqual([
        { policy: 'authz', document: { roles: { administrator: ['CanAdminister'] }, subjects: {}, identityRoles: {} } },
        { policy: 'note', document: { roles: { reader: ['CanRead'] }, subjects: { susan: { roles: ['reader'], permissions: [] } }, identityRoles: {} } },
      ]);
    });

    it('should read every policy file of a directory, sorted, and nothing else (no other files, no subdirectories)', async () => {
      await write('note.json', JSON.stringify(note));
      await write('authz.json', JSON.stringify(authz));
      await write('README.md', '# not a policy');
      await mkdir(join(dir, 'nested'));
      await writeFile(join(dir, 'nested', 'other.json'), '{}');
      expect((await readPolicyFiles(dir)).map((file) => file.policy)).toEqual(['authz', 'note']);
    });

    it('should keep a key such as __proto__ a plain subject name, in JSON and in YAML', async () => {
      await write('a.json', '{"roles":{"r":["P"]},"subjects":{"__proto__":{"roles":["r"]}}}');
      await write('b.yaml', 'roles: { r: [P] }\nsubjects:\n  __proto__: { roles: [r] }\n');
      const files = await readPolicyFiles(dir);
      for (const { document } of files) {
        expect(Object.keys(document.subjects)).toEqual(['__proto__']);
        expect(Object.getPrototypeOf(document.subjects)).toBe(Object.prototype);
      }
      expect(({} as Record<string, unknown>).roles).toBeUndefined();
    });

    describe('when a file cannot be used', () => {
      it.each([
        ['note.json', '{"roles":{"reader":[""]}}', 'note.json: roles.reader[0] must not be empty'],
        ['note.json', '{"roles":{"reader":["CanRead"]},"subjects":{"susan":{"roles":["writer"]}}}', "note.json: subjects.susan.roles[0] refers to role 'writer'"],
        ['note.json', '{"roles":{},"grants":{}}', 'note.json: grants is not a part of a policy'],
        ['note.json', '{"roles": {', 'note.json: is not valid JSON'],
        ['note.json', '[]', 'note.json: must hold one policy: an object with roles, subjects and identityRoles'],
        ['note.yaml', '', 'note.yaml: must hold one policy'],
        ['note.yaml', 'roles:\n  reader: [CanRead]\nroles: {}\n', 'note.yaml: is not valid YAML'],
        ['note.yml', 'identityRoles:\n  admin: moderator\n', 'note.yml: identityRoles.admin must be a list of names'],
        ['*.json', '{}', "its base name \"*\" is the policy's name, which must not contain '*'"],
      ])('should name the file and the field: %s %j', async (name, text, message) => {
        const file = await write(name, text);
        const error = await readPolicyFiles(file).catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(PolicyFileError);
        expect((error as Error).message).toContain(message);
        expect((error as Error).message.startsWith(file)).toBe(true);
      });

      it('should give the field apart from the problem', async () => {
        const file = await write('note.json', '{"subjects":{"susan":{"permissions":["Can\\u0000Read"]}}}');
        await expect(readPolicyFiles(file)).rejects.toMatchObject({ file, field: 'subjects.susan.permissions[0]', problem: 'must not contain control characters' });
      });

      it('should refuse a path that does not exist, a file that is not a policy file, and an empty directory', async () => {
        await expect(readPolicyFiles(join(dir, 'missing'))).rejects.toThrow(`${join(dir, 'missing')}: does not exist`);
        await expect(readPolicyFiles(await write('note.txt', '{}'))).rejects.toThrow('is not a policy file: its name must end in .json, .yaml, .yml');
        await rm(join(dir, 'note.txt'));
        await expect(readPolicyFiles(dir)).rejects.toThrow(`${dir}: holds no policy files`);
      });

      it('should refuse two files for one policy, naming both', async () => {
        await write('note.json', '{}');
        await write('note.yaml', '{}');
        await expect(readPolicyFiles(dir)).rejects.toThrow(`${join(dir, 'note.yaml')}: holds policy 'note', and so does ${join(dir, 'note.json')}`);
      });
    });
  });

  describe('planPolicies', () => {
    it('should create what the store lacks, and list what only the store has as left alone', async () => {
      const store = new InMemoryPolicyStore({ authz });
      const plan = await planPolicies(store, [{ policy: 'note', document: note }]);
      expect(plan.entries.map(({ action, policy, revision }) => ({ action, policy, revision }))).toEqual([
        { action: 'left-alone', policy: 'authz', revision: 1 },
        { action: 'create', policy: 'note', revision: 0 },
      ]);
      expect(describePlan(plan)).toBe(
        [
          'authz: not in the files, left alone (store revision 1)',
          'note: create',
          '  + role reader: CanRead',
          '  + role writer: CanRead, CanWrite',
          '  + subject alice: + role writer',
          '  + subject susan: + role reader, + permission CanReadConfidentialNotes',
          '  + identity role notes-admin: writer',
          '',
        ].join('\n'),
      );
      expect(planCounts(plan)).toEqual({ create: 1, update: 0, unchanged: 0, 'left-alone': 1 });
    });

    it('should find an equal policy unchanged, whatever the order of keys and lists', async () => {
      const store = new InMemoryPolicyStore({ note });
      const reordered = { identityRoles: note.identityRoles, subjects: { alice: note.subjects.alice, susan: { permissions: ['CanReadConfidentialNotes'], roles: ['reader'] } }, roles: { writer: ['CanWrite', 'CanRead'], reader: ['CanRead'] } };
      const plan = await planPolicies(store, [{ policy: 'note', document: reordered }]);
      expect(plan.entries).toEqual([{ action: 'unchanged', policy: 'note', revision: 1 }]);
      expect(describePlan(plan)).toBe('note: unchanged (store revision 1)\n');
    });

    it('should describe an update: roles added, removed and changed, grants added and removed, identity roles', async () => {
      const store = new InMemoryPolicyStore({ note: { ...note, roles: { ...note.roles, old: ['CanArchive'] } } });
      const wanted = {
        roles: { reader: ['CanRead', 'CanList'], writer: ['CanWrite'], auditor: [] },
        subjects: { susan: { roles: ['reader'] }, dave: { roles: ['auditor'] } },
        identityRoles: { 'notes-admin': ['writer', 'reader'], 'notes-audit': ['auditor'] },
      };
      const plan = await planPolicies(store, [{ policy: 'note', document: wanted }]);
      expect(plan.entries[0]).toMatchObject({ action: 'update', policy: 'note', revision: 1 });
      expect(describePlan(plan)).toBe(
        [
          'note: update (store revision 1)',
          '  + role auditor: (none)',
          '  - role old: CanArchive',
          '  ~ role reader: + CanList',
          '  ~ role writer: - CanRead',
          '  - subject alice: - role writer',
          '  + subject dave: + role auditor',
          '  ~ subject susan: - permission CanReadConfidentialNotes',
          '  ~ identity role notes-admin: + reader',
          '  + identity role notes-audit: auditor',
          '',
        ].join('\n'),
      );
    });

    it('should refuse a document that breaks a rule, naming the policy and the field', async () => {
      await expect(planPolicies(new InMemoryPolicyStore(), [{ policy: 'note', document: { roles: { reader: [''] } } }])).rejects.toThrow('note.roles.reader[0] must not be empty');
    });
  });

  describe('applyPolicyPlan', () => {
    it('should write every change in one edit call, each conditional on the revision seen by the plan, one audit entry per policy', async () => {
      const store = new RecordingStore({ note: { roles: { reader: ['CanRead'] } }, other: {} });
      const plan = await planPolicies(store, [
        { policy: 'note', document: note },
        { policy: 'authz', document: authz },
        { policy: 'other', document: {} },
      ]);
      const result = await applyPolicyPlan(store, plan, { actor: 'policy-cli' });
      expect(result).toEqual({ created: ['authz'], updated: ['note'], revision: 3 });
      expect(store.calls).toEqual([
        [
          { kind: 'put-policy', policy: 'authz', document: expect.objectContaining({ roles: authz.roles }), ifRevision: 0 },
          { kind: 'put-policy', policy: 'note', document: expect.objectContaining({ roles: note.roles }), ifRevision: 1 },
        ],
      ]);
      expect((await store.audit({ limit: 10 })).map(({ actor, policy, action }) => ({ actor, policy, action }))).toEqual([
        { actor: 'policy-cli', policy: 'authz', action: 'put-policy' },
        { actor: 'policy-cli', policy: 'note', action: 'put-policy' },
      ]);
      expect(planCounts(await planPolicies(store, [{ policy: 'note', document: note }]))).toEqual({ create: 0, update: 0, unchanged: 1, 'left-alone': 2 });
    });

    it('should not write at all when there is nothing to do', async () => {
      const store = new RecordingStore({ note });
      expect(await applyPolicyPlan(store, await planPolicies(store, [{ policy: 'note', document: note }]), { actor: 'policy-cli' })).toEqual({ created: [], updated: [] });
      expect(store.calls).toEqual([]);
    });

    it('should give a conflict, and write nothing, when a policy changed after the plan', async () => {
      const store = new InMemoryPolicyStore({ note: {} });
      const plan = await planPolicies(store, [
        { policy: 'authz', document: authz },
        { policy: 'note', document: note },
      ]);
      await store.edit([{ kind: 'put-role', policy: 'note', role: 'reader', permissions: ['CanRead'] }], { actor: 'carol' });
      await expect(applyPolicyPlan(store, plan, { actor: 'policy-cli' })).rejects.toBeInstanceOf(RevisionConflictError);
      expect(await store.getPolicy('authz')).toBeUndefined();
      expect((await store.getPolicy('note'))?.document.roles).toEqual({ reader: ['CanRead'] });
    });
  });

  describe('createMissingPolicies', () => {
    it('should create only the policies the store lacks, and never change one that exists', async () => {
      const store = new InMemoryPolicyStore({ note: { roles: { reader: ['CanRead'] } } });
      expect(await createMissingPolicies(store, [{ policy: 'note', document: note }, { policy: 'authz', document: authz }], { actor: 'app' })).toEqual(['authz']);
      expect((await store.getPolicy('note'))?.document.subjects).toEqual({});
      expect(await createMissingPolicies(store, [{ policy: 'authz', document: {} }], { actor: 'app' })).toEqual([]);
      expect((await store.audit({ limit: 10 })).map(({ actor, policy }) => `${actor}:${policy}`)).toEqual(['app:authz']);
    });

    it("should write a new policy's initial edits in its transaction, and none for a policy that exists", async () => {
      const store = new InMemoryPolicyStore({ authz: {} });
      const initialEdits = [
        { kind: 'grant-resource-role', policy: 'note', resource: 'n1', subject: 'alice', role: 'reader' },
        { kind: 'grant-resource-role', policy: 'authz', resource: 'x', subject: 'alice', role: 'admin' },
      ] as const;
      expect(await createMissingPolicies(store, [{ policy: 'note', document: note }, { policy: 'authz', document: authz }], { actor: 'app', initialEdits })).toEqual(['note']);
      expect((await store.resourceGrants('note', 'n1'))?.subjects).toEqual({ alice: ['reader'] });
      expect((await store.resourceGrants('authz', 'x'))?.subjects).toEqual({});
      await expect(
        createMissingPolicies(new InMemoryPolicyStore(), [{ policy: 'note', document: note }], { actor: 'app', initialEdits: [{ ...initialEdits[0], role: 'owner' }] }),
      ).rejects.toThrow("Role 'owner' is not defined in policy 'note'");
    });

    it('should take a conflict (another instance created it just now) as done', async () => {
      const store = new InMemoryPolicyStore();
      const racing = Object.assign(Object.create(store) as InMemoryPolicyStore, { listPolicies: async () => [] });
      await store.edit([{ kind: 'put-policy', policy: 'note', document: note }], { actor: 'other instance' });
      expect(await createMissingPolicies(racing, [{ policy: 'note', document: {} }], { actor: 'app' })).toEqual([]);
      expect((await store.getPolicy('note'))?.document.roles).toEqual(note.roles);
    });
  });

  describe('exportPolicies', () => {
    it('should write every policy as stable JSON, so that a plan right afterwards has nothing to do', async () => {
      const store = new InMemoryPolicyStore({ note: { identityRoles: note.identityRoles, subjects: note.subjects, roles: { writer: ['CanWrite', 'CanRead'], reader: ['CanRead'] } }, authz });
      const out = join(dir, 'out');
      expect(await exportPolicies(store, out)).toEqual([join(out, 'authz.json'), join(out, 'note.json')]);
      expect(await readdir(out)).toEqual(['authz.json', 'note.json']);
      expect(await readFile(join(out, 'note.json'), 'utf8')).toBe(`{
  "roles": {
    "reader": [
      "CanRead"
    ],
    "writer": [
      "CanRead",
      "CanWrite"
    ]
  },
  "subjects": {
    "alice": {
      "roles": [
        "writer"
      ]
    },
    "susan": {
      "roles": [
        "reader"
      ],
      "permissions": [
        "CanReadConfidentialNotes"
      ]
    }
  },
  "identityRoles": {
    "notes-admin": [
      "writer"
    ]
  }
}
`);
      const plan = await planPolicies(store, await readPolicyFiles(out));
      expect(planCounts(plan)).toEqual({ create: 0, update: 0, unchanged: 2, 'left-alone': 0 });
      expect(await exportPolicies(store, out)).toHaveLength(2);
    });

    it('should refuse a directory holding other policy files, before writing anything', async () => {
      await write('old.yaml', '{}');
      await expect(exportPolicies(new InMemoryPolicyStore({ note }), dir)).rejects.toThrow(`${dir}: holds policy files that are not in the store's export (old.yaml)`);
      expect(await readdir(dir)).toEqual(['old.yaml']);
    });

    it('should refuse a policy whose name cannot be a file name', async () => {
      await expect(exportPolicies(new InMemoryPolicyStore({ 'a/b': {} }), dir)).rejects.toThrow("policy 'a/b' has a name that is not a plain file name");
    });
  });

  it('should write equal text for equal policies (policyFileText)', () => {
    expect(policyFileText({ subjects: { b: { permissions: ['Y', 'X'] }, a: { roles: [] , permissions: ['Z'] } } })).toBe(
      policyFileText({ roles: {}, identityRoles: {}, subjects: { a: { permissions: ['Z'] }, b: { permissions: ['X', 'Y'] } } }),
    );
  });

  it('should diff nothing between equal policies (diffPolicies)', () => {
    expect(diffPolicies(note, { ...note })).toEqual({ roles: [], subjects: [], identityRoles: [] });
  });
});
