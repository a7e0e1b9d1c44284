import {
  explainPermission,
  InvalidPolicyError,
  PolicyNotFoundError,
  RevisionConflictError,
  RoleInUseError,
  RoleNotFoundError,
  type AuditEntry,
  type DecisionGrants,
  type EditResult,
  type PolicyChange,
  type PolicyDocument,
  type PolicyEdit,
  type PolicyStore,
} from 'nestjs-authz';

/** A store opened for the contract, and how to remove what was made for it. */
export interface OpenedStore {
  readonly store: PolicyStore;
  /**
   * Removes what `open()` made around the store (a database, a PGlite instance). Called after the contract has
   * called `store.close()` itself, so it must not fail on a closed store.
   */
  dispose(): Promise<void>;
}

/** How long a listener may take to hear of a change (PostgreSQL: a NOTIFY on its way); longer fails the test. */
const NOTIFICATION_WAIT_MS = 2_000;
const ACTOR = 'carol';
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$/;

/**
 * The behaviour every PolicyStore must show, whatever keeps the data: run it on each implementation with a
 * function that opens a fresh, empty store.
 *
 * One store serves the whole block (opening a database is slow) and every test works on policies of its own, so
 * tests do not depend on each other or on their order. Notifications may arrive asynchronously (LISTEN/NOTIFY):
 * tests await them, never sleep. What the contract pins beyond the types:
 * - lists of names are sets: their order is not part of the contract (compared with {@link unordered});
 * - `listPolicies()` is ordered by name in code-unit order (PostgreSQL: `COLLATE "C"`);
 * - every changing edit gets a revision of its own, so a list of edits produces increasing revisions;
 * - each change reaches each listener once, in commit order, after it can be read.
 *
 * @example
 * describePolicyStoreContract('InMemoryPolicyStore', async () => ({ store: new InMemoryPolicyStore(), dispose: async () => {} }));
 */
export function describePolicyStoreContract(name: string, open: () => Promise<OpenedStore>): void {
  describe(`${name} (PolicyStore contract)`, () => {
    let opened: OpenedStore | undefined;
    let store: PolicyStore;
    const recorders: ChangeRecorder[] = [];

    beforeAll(async () => {
      opened = await open();
      store = opened.store;
    });

    afterAll(async () => {
      await opened?.store.close();
      await opened?.dispose();
    });

    afterEach(() => recorders.splice(0).forEach((recorder) => recorder.stop()));

    // Unique per run and per test, in case a backend keeps data between runs.
    const run = Math.random().toString(36).slice(2, 8);
    let count = 0;
    const policyName = (label: string) => `${label}-${run}-${++count}`;

    const edit = (edits: readonly PolicyEdit[]): Promise<EditResult> => store.edit(edits, { actor: ACTOR });

    /** Creates a policy of its own for one test (the {@link note} document unless given another). */
    async function create(label: string, document: PolicyDocument = note()): Promise<{ policy: string; revision: number }> {
      const policy = policyName(label);
      const { revision } = await edit([{ kind: 'put-policy', policy, document }]);
      return { policy, revision };
    }

    /** The policy's revision, checking that listPolicies, getPolicy and grantsFor agree on it. */
    async function revisionOf(policy: string): Promise<number | undefined> {
      const listed = (await store.listPolicies()).find((summary) => summary.name === policy)?.revision;
      expect((await store.getPolicy(policy))?.revision).toBe(listed);
      expect((await store.grantsFor(policy, 'nobody', []))?.revision).toBe(listed);
      return listed;
    }

    /** Everything a refused edit must leave as it was. */
    async function snapshot(policy: string) {
      return { stored: await store.getPolicy(policy), audit: await store.audit({ policy, limit: 1_000 }), listed: await store.listPolicies() };
    }

    function record(): ChangeRecorder {
      const recorder = new ChangeRecorder(store);
      recorders.push(recorder);
      return recorder;
    }

    /** Makes a change of a policy of its own and waits until `recorder` hears of it; returns the store's revision. */
    async function barrier(recorder: ChangeRecorder): Promise<number> {
      const policy = policyName('barrier');
      const { revision } = await edit([{ kind: 'put-policy', policy, document: {} }]);
      await recorder.untilRevision(policy, revision);
      return revision;
    }

    /**
     * Runs `action` between two barriers. Changes reach listeners in commit order, so once the second barrier has
     * been heard, any change `action` made would have been heard too: `heard` is what listeners were told of
     * `policies` meanwhile. `storeRevision` is the store's revision just before `action`.
     */
    async function between<T>(recorder: ChangeRecorder, policies: readonly string[], action: () => Promise<T>): Promise<{ value: T; storeRevision: number; heard: PolicyChange[] }> {
      const storeRevision = await barrier(recorder);
      const mark = recorder.changes.length;
      const value = await action();
      await barrier(recorder);
      const heard = recorder.changes.slice(mark).filter((change) => change.policy !== undefined && policies.includes(change.policy));
      return { value, storeRevision, heard };
    }

    describe('when a policy is put', () => {
      it('should create it with a revision above 0 and list it', async () => {
        const policy = policyName('created');
        const result = await edit([{ kind: 'put-policy', policy, document: note() }]);
        expect(result.changed).toEqual([true]);
        expect(result.revision).toBeGreaterThan(0);
        expect(await store.listPolicies()).toContainEqual({ name: policy, revision: result.revision });
        expect(await store.getPolicy(policy)).toMatchObject({ name: policy, revision: result.revision });
      });

      it('should list policies by name, in code-unit order', async () => {
        const upper = await create('Zeta');
        const lower = await create('alpha');
        const names = (await store.listPolicies()).map((summary) => summary.name);
        expect(names.indexOf(upper.policy)).toBeGreaterThanOrEqual(0);
        expect(names.indexOf(upper.policy)).toBeLessThan(names.indexOf(lower.policy));
        expect(names).toEqual([...names].sort(byCodeUnits));
      });

      it('should return the document normalised: every part present, subjects without grants dropped, lists without duplicates', async () => {
        const { policy, revision } = await create('normalised', {
          roles: { reader: ['CanRead', 'CanList', 'CanRead'] },
          subjects: { susan: { roles: ['reader', 'reader'] }, tom: { roles: [], permissions: [] }, ann: {}, bob: { permissions: ['CanShare', 'CanShare'] } },
        });
        const stored = await store.getPolicy(policy);
        expect(stored?.name).toBe(policy);
        expect(stored?.revision).toBe(revision);
        expect(unordered(stored?.document)).toEqual(
          unordered({ roles: { reader: ['CanRead', 'CanList'] }, subjects: { susan: { roles: ['reader'], permissions: [] }, bob: { roles: [], permissions: ['CanShare'] } }, identityRoles: {} }),
        );
      });

      it('should create an empty policy from an empty document', async () => {
        const { policy, revision } = await create('empty', {});
        expect(revision).toBeGreaterThan(0);
        expect(await store.getPolicy(policy)).toEqual({ name: policy, revision, document: { roles: {}, subjects: {}, identityRoles: {} } });
        expect(await store.grantsFor(policy, 'susan', ['notes-admin'])).toEqual({ revision, subjectRoles: [], subjectPermissions: [], identityRoles: new Map(), resourceRoles: new Map(), rolePermissions: new Map() });
      });

      it('should change nothing when the same document is put again', async () => {
        const recorder = record();
        const { policy } = await create('same');
        const before = await snapshot(policy);
        const { value, storeRevision, heard } = await between(recorder, [policy], () => edit([{ kind: 'put-policy', policy, document: note() }]));
        expect(value).toMatchObject({ revision: storeRevision, changed: [false] });
        expect(await snapshot(policy)).toEqual({ ...before, listed: expect.any(Array) });
        expect(await revisionOf(policy)).toBe(before.stored?.revision);
        expect(heard).toEqual([]);
      });

      it('should change nothing when the document differs only in the order of names and in duplicates', async () => {
        const { policy, revision } = await create('same-grants');
        const reordered: PolicyDocument = {
          identityRoles: { 'notes-archivist': ['archivist'], 'notes-writer': ['writer', 'writer'], 'notes-admin': ['moderator'] },
          subjects: { tom: { roles: ['writer'], permissions: [] }, susan: { permissions: ['CanShare'], roles: ['reader'] } },
          roles: { archivist: ['CanArchive'], moderator: ['*'], writer: ['CanWrite', 'CanRead', 'CanWrite'], reader: ['CanRead'] },
        };
        expect((await edit([{ kind: 'put-policy', policy, document: reordered }])).changed).toEqual([false]);
        expect(await revisionOf(policy)).toBe(revision);
        expect(await store.audit({ policy, limit: 10 })).toHaveLength(1);
      });

      it('should treat an existing empty policy as existing: putting it again changes nothing, replacing it shows the empty document before', async () => {
        const { policy, revision } = await create('empty-again', {});
        expect((await edit([{ kind: 'put-policy', policy, document: {} }])).changed).toEqual([false]);
        expect(await revisionOf(policy)).toBe(revision);
        await edit([{ kind: 'put-policy', policy, document: { roles: { reader: ['CanRead'] } } }]);
        expect((await store.audit({ policy, limit: 10 })).at(-1)?.before).toEqual({ roles: {}, subjects: {}, identityRoles: {} });
      });

      it("should report each edit's policy revision, changed or not", async () => {
        const { policy, revision } = await create('edit-revisions');
        const other = await create('edit-revisions-other');
        const result = await edit([
          { kind: 'grant-role', policy, subject: 'susan', role: 'reader' },
          { kind: 'grant-role', policy: other.policy, subject: 'ann', role: 'reader' },
          { kind: 'grant-role', policy, subject: 'susan', role: 'reader' },
        ]);
        expect(result.changed).toEqual([false, true, false]);
        expect(result.revisions).toEqual([revision, result.revision, revision]);
      });

      it('should hand out answers that no caller can use to change the store', async () => {
        const { policy } = await create('not-live');
        const attempt = (change: () => void) => {
          try {
            change();
          } catch {
            // A frozen answer refuses the change: just as good as a copy.
          }
        };
        const grants = await store.grantsFor(policy, 'susan', ['notes-admin']);
        attempt(() => (grants!.subjectRoles as string[]).push('moderator'));
        attempt(() => (grants!.rolePermissions.get('reader') as string[]).push('CanDelete'));
        const stored = await store.getPolicy(policy);
        attempt(() => stored!.document.roles.reader.push('CanDelete'));
        await edit([{ kind: 'put-role', policy, role: 'reader', permissions: ['CanRead', 'CanList'] }]);
        const [entry] = (await store.audit({ policy, limit: 10 })).slice(-1);
        attempt(() => ((entry.after as { permissions: string[] }).permissions as string[]).push('CanDelete'));
        const fresh = await store.grantsFor(policy, 'susan', []);
        expect(fresh?.subjectRoles).toEqual(['reader']);
        expect([...(fresh?.rolePermissions.get('reader') ?? [])].sort()).toEqual(['CanList', 'CanRead']);
        expect((await store.audit({ policy, limit: 10 })).at(-1)?.after).toEqual({ permissions: expect.arrayContaining(['CanRead', 'CanList']) });
        expect(((await store.audit({ policy, limit: 10 })).at(-1)?.after as { permissions: string[] }).permissions).toHaveLength(2);
      });

      it('should replace the whole document when a different one is put', async () => {
        const { policy, revision } = await create('replaced');
        const result = await edit([{ kind: 'put-policy', policy, document: { roles: { editor: ['CanEdit'] }, subjects: { ann: { roles: ['editor'] } } } }]);
        expect(result.changed).toEqual([true]);
        expect(result.revision).toBeGreaterThan(revision);
        expect(unordered((await store.getPolicy(policy))?.document)).toEqual({ roles: { editor: ['CanEdit'] }, subjects: { ann: { roles: ['editor'], permissions: [] } }, identityRoles: {} });
        expect(await store.grantsFor(policy, 'susan', ['notes-admin'])).toEqual({ revision: result.revision, subjectRoles: [], subjectPermissions: [], identityRoles: new Map(), resourceRoles: new Map(), rolePermissions: new Map() });
        expect(await revisionOf(policy)).toBe(result.revision);
      });
    });

    describe('when the grants for a decision are read', () => {
      it('should return exactly what one decision needs', async () => {
        const { policy, revision } = await create('decision');
        const grants = await store.grantsFor(policy, 'susan', ['notes-writer', 'unmapped', 'constructor']);
        expect(grants?.identityRoles).toBeInstanceOf(Map);
        expect(grants?.rolePermissions).toBeInstanceOf(Map);
        expect(unordered(grants)).toEqual(
          unordered({
            revision,
            subjectRoles: ['reader'],
            subjectPermissions: ['CanShare'],
            identityRoles: new Map([['notes-writer', ['writer']]]),
            resourceRoles: new Map(),
            rolePermissions: new Map([
              ['reader', ['CanRead']],
              ['writer', ['CanRead', 'CanWrite']],
            ]),
          }),
        );
      });

      it('should give an unknown subject empty lists, and still map the identity roles', async () => {
        const { policy, revision } = await create('unknown-subject');
        expect(await store.grantsFor(policy, 'nobody', [])).toEqual({ revision, subjectRoles: [], subjectPermissions: [], identityRoles: new Map(), resourceRoles: new Map(), rolePermissions: new Map() });
        expect(await store.grantsFor(policy, 'nobody', ['notes-admin'])).toEqual({
          revision,
          subjectRoles: [],
          subjectPermissions: [],
          identityRoles: new Map([['notes-admin', ['moderator']]]),
          resourceRoles: new Map(), rolePermissions: new Map([['moderator', ['*']]]),
        });
      });

      it('should answer undefined for a policy it does not know, whatever its name', async () => {
        for (const policy of [policyName('unknown'), 'constructor', 'toString', '__proto__', 'hasOwnProperty']) {
          expect(await store.grantsFor(policy, 'susan', ['notes-admin'])).toBeUndefined();
          expect(await store.getPolicy(policy)).toBeUndefined();
        }
      });

      it('should treat names such as constructor, __proto__ and toString as plain names', async () => {
        // JSON.parse makes `__proto__` an own key, as a request body would.
        const document = JSON.parse(
          '{"roles":{"constructor":["toString"],"hasOwnProperty":["valueOf"]},"subjects":{"__proto__":{"roles":["constructor"]},"toString":{"permissions":["__proto__"]}},"identityRoles":{"toString":["hasOwnProperty"],"__proto__":["constructor"]}}',
        ) as PolicyDocument;
        const { policy, revision } = await create('plain-names', document);
        expect(unordered(await store.grantsFor(policy, '__proto__', ['toString', '__proto__', 'valueOf']))).toEqual(
          unordered({
            revision,
            subjectRoles: ['constructor'],
            subjectPermissions: [],
            identityRoles: new Map([
              ['toString', ['hasOwnProperty']],
              ['__proto__', ['constructor']],
            ]),
            resourceRoles: new Map(),
            rolePermissions: new Map([
              ['constructor', ['toString']],
              ['hasOwnProperty', ['valueOf']],
            ]),
          }),
        );
        expect(await store.grantsFor(policy, 'toString', [])).toEqual({ revision, subjectRoles: [], subjectPermissions: ['__proto__'], identityRoles: new Map(), resourceRoles: new Map(), rolePermissions: new Map() });
        expect(await store.grantsFor(policy, 'constructor', ['valueOf', 'hasOwnProperty'])).toEqual({ revision, subjectRoles: [], subjectPermissions: [], identityRoles: new Map(), resourceRoles: new Map(), rolePermissions: new Map() });
        expect(unordered((await store.getPolicy(policy))?.document)).toEqual(
          unordered(
            JSON.parse(
              '{"roles":{"constructor":["toString"],"hasOwnProperty":["valueOf"]},"subjects":{"__proto__":{"roles":["constructor"],"permissions":[]},"toString":{"roles":[],"permissions":["__proto__"]}},"identityRoles":{"toString":["hasOwnProperty"],"__proto__":["constructor"]}}',
            ),
          ),
        );

        const result = await edit([
          { kind: 'grant-role', policy, subject: 'constructor', role: 'constructor' },
          { kind: 'put-role', policy, role: 'toString', permissions: ['constructor'] },
          { kind: 'put-identity-role', policy, identityRole: 'valueOf', roles: ['toString'] },
        ]);
        expect(result.changed).toEqual([true, true, true]);
        expect(unordered(await store.grantsFor(policy, 'constructor', ['valueOf']))).toEqual(
          unordered({
            revision: result.revision,
            subjectRoles: ['constructor'],
            subjectPermissions: [],
            identityRoles: new Map([['valueOf', ['toString']]]),
            resourceRoles: new Map(),
            rolePermissions: new Map([
              ['constructor', ['toString']],
              ['toString', ['constructor']],
            ]),
          }),
        );
      });
    });

    describe('when roles are granted and revoked', () => {
      it('should grant a role once: a second grant changes nothing', async () => {
        const { policy } = await create('grant-role');
        const first = await edit([{ kind: 'grant-role', policy, subject: 'ann', role: 'reader' }]);
        expect(first.changed).toEqual([true]);
        expect(await store.grantsFor(policy, 'ann', [])).toEqual({ revision: first.revision, subjectRoles: ['reader'], subjectPermissions: [], identityRoles: new Map(), resourceRoles: new Map(), rolePermissions: new Map([['reader', ['CanRead']]]) });
        const second = await edit([{ kind: 'grant-role', policy, subject: 'ann', role: 'reader' }]);
        expect(second).toMatchObject({ revision: first.revision, changed: [false] });
        expect(await revisionOf(policy)).toBe(first.revision);
      });

      it('should revoke a role, and revoking a role not held should change nothing', async () => {
        const { policy } = await create('revoke-role');
        const revoked = await edit([{ kind: 'revoke-role', policy, subject: 'susan', role: 'reader' }]);
        expect(revoked.changed).toEqual([true]);
        expect(await store.grantsFor(policy, 'susan', [])).toEqual({ revision: revoked.revision, subjectRoles: [], subjectPermissions: ['CanShare'], identityRoles: new Map(), resourceRoles: new Map(), rolePermissions: new Map() });
        expect(
          await edit([
            { kind: 'revoke-role', policy, subject: 'susan', role: 'reader' },
            { kind: 'revoke-role', policy, subject: 'nobody', role: 'reader' },
            { kind: 'revoke-role', policy, subject: 'tom', role: 'reader' },
          ]),
        ).toMatchObject({ revision: revoked.revision, changed: [false, false, false] });
        expect(await revisionOf(policy)).toBe(revoked.revision);
      });

      it('should drop a subject whose last grant is revoked', async () => {
        const { policy } = await create('last-grant');
        await edit([{ kind: 'revoke-role', policy, subject: 'tom', role: 'writer' }]);
        const subjects = (await store.getPolicy(policy))?.document.subjects;
        expect(Object.keys(subjects ?? {}).sort()).toEqual(['susan']);
      });

      it('should refuse a role the policy does not define with RoleNotFoundError, granting or revoking', async () => {
        const { policy } = await create('unknown-role');
        const before = await snapshot(policy);
        for (const kind of ['grant-role', 'revoke-role'] as const) {
          const error = await refusal(edit([{ kind, policy, subject: 'susan', role: 'ghost' }]));
          expect(error).toBeInstanceOf(RoleNotFoundError);
          expect(error).toMatchObject({ policy, role: 'ghost' });
        }
        expect(await snapshot(policy)).toEqual(before);
      });
    });

    describe('when permissions are granted and revoked', () => {
      it('should grant a permission once, and revoking one not held should change nothing', async () => {
        const { policy } = await create('grant-permission');
        const granted = await edit([{ kind: 'grant-permission', policy, subject: 'ann', permission: 'CanShare' }]);
        expect(granted.changed).toEqual([true]);
        expect(await store.grantsFor(policy, 'ann', [])).toEqual({ revision: granted.revision, subjectRoles: [], subjectPermissions: ['CanShare'], identityRoles: new Map(), resourceRoles: new Map(), rolePermissions: new Map() });
        expect(await edit([{ kind: 'grant-permission', policy, subject: 'ann', permission: 'CanShare' }])).toMatchObject({ revision: granted.revision, changed: [false] });

        const revoked = await edit([{ kind: 'revoke-permission', policy, subject: 'ann', permission: 'CanShare' }]);
        expect(revoked.changed).toEqual([true]);
        expect(revoked.revision).toBeGreaterThan(granted.revision);
        expect((await store.grantsFor(policy, 'ann', []))?.subjectPermissions).toEqual([]);
        expect(
          await edit([
            { kind: 'revoke-permission', policy, subject: 'ann', permission: 'CanShare' },
            { kind: 'revoke-permission', policy, subject: 'susan', permission: 'CanRead' },
          ]),
        ).toMatchObject({ revision: revoked.revision, changed: [false, false] });
        expect(await revisionOf(policy)).toBe(revoked.revision);
      });

      it("should accept '*' as a permission and give every permission through it", async () => {
        const { policy } = await create('wildcard');
        const result = await edit([
          { kind: 'grant-permission', policy, subject: 'ann', permission: '*' },
          { kind: 'put-role', policy, role: 'owner', permissions: ['*'] },
          { kind: 'grant-role', policy, subject: 'bob', role: 'owner' },
        ]);
        expect(result.changed).toEqual([true, true, true]);
        const ann = await store.grantsFor(policy, 'ann', []);
        expect(ann?.subjectPermissions).toEqual(['*']);
        expect(explainPermission(ann!, 'CanAnything')).toEqual([{ via: 'permission', permission: '*' }]);
        expect(explainPermission((await store.grantsFor(policy, 'bob', []))!, 'CanAnything')).toEqual([{ via: 'role', role: 'owner', permission: '*' }]);
        expect(explainPermission((await store.grantsFor(policy, 'nobody', ['notes-admin']))!, 'CanAnything')).toEqual([{ via: 'identity-role', identityRole: 'notes-admin', role: 'moderator', permission: '*' }]);
      });
    });

    describe('when an edit names a policy that does not exist', () => {
      const edits: ((policy: string) => PolicyEdit)[] = [
        (policy) => ({ kind: 'grant-role', policy, subject: 'susan', role: 'reader' }),
        (policy) => ({ kind: 'revoke-role', policy, subject: 'susan', role: 'reader' }),
        (policy) => ({ kind: 'grant-permission', policy, subject: 'susan', permission: 'CanRead' }),
        (policy) => ({ kind: 'revoke-permission', policy, subject: 'susan', permission: 'CanRead' }),
        (policy) => ({ kind: 'put-role', policy, role: 'reader', permissions: ['CanRead'] }),
        (policy) => ({ kind: 'delete-role', policy, role: 'reader' }),
        (policy) => ({ kind: 'put-identity-role', policy, identityRole: 'notes-admin', roles: [] }),
        (policy) => ({ kind: 'delete-identity-role', policy, identityRole: 'notes-admin' }),
      ];

      it.each(edits.map((make): [string, (policy: string) => PolicyEdit] => [make('…').kind, make]))('should refuse %s with PolicyNotFoundError and create nothing', async (_kind, make) => {
        const policy = policyName('missing');
        const error = await refusal(edit([make(policy)]));
        expect(error).toBeInstanceOf(PolicyNotFoundError);
        expect(error).toMatchObject({ policy });
        expect(await store.getPolicy(policy)).toBeUndefined();
        expect(await store.audit({ policy, limit: 10 })).toEqual([]);
      });
    });

    describe('when roles are put and deleted', () => {
      it('should create a role and replace its permissions; putting the same permissions should change nothing', async () => {
        const { policy } = await create('put-role');
        const created = await edit([{ kind: 'put-role', policy, role: 'editor', permissions: ['CanEdit', 'CanRead', 'CanEdit'] }]);
        expect(created.changed).toEqual([true]);
        expect(unordered((await store.getPolicy(policy))?.document.roles.editor)).toEqual(['CanEdit', 'CanRead']);

        const granted = await edit([{ kind: 'grant-role', policy, subject: 'ann', role: 'editor' }]);
        expect(unordered((await store.grantsFor(policy, 'ann', []))?.rolePermissions)).toEqual(new Map([['editor', ['CanEdit', 'CanRead']]]));

        const replaced = await edit([{ kind: 'put-role', policy, role: 'editor', permissions: ['CanPublish'] }]);
        expect(replaced.changed).toEqual([true]);
        expect(replaced.revision).toBeGreaterThan(granted.revision);
        expect((await store.grantsFor(policy, 'ann', []))?.rolePermissions).toEqual(new Map([['editor', ['CanPublish']]]));

        expect(
          await edit([
            { kind: 'put-role', policy, role: 'editor', permissions: ['CanPublish'] },
            { kind: 'put-role', policy, role: 'writer', permissions: ['CanWrite', 'CanRead'] },
          ]),
        ).toMatchObject({ revision: replaced.revision, changed: [false, false] });
      });

      it('should delete a role nobody holds', async () => {
        const { policy } = await create('delete-role');
        await edit([{ kind: 'put-role', policy, role: 'spare', permissions: ['CanRest'] }]);
        const deleted = await edit([{ kind: 'delete-role', policy, role: 'spare' }]);
        expect(deleted.changed).toEqual([true]);
        expect(Object.keys((await store.getPolicy(policy))?.document.roles ?? {}).sort()).toEqual(['archivist', 'moderator', 'reader', 'writer']);
        const error = await refusal(edit([{ kind: 'grant-role', policy, subject: 'ann', role: 'spare' }]));
        expect(error).toBeInstanceOf(RoleNotFoundError);
      });

      it('should refuse to delete a role the policy does not define with RoleNotFoundError', async () => {
        const { policy } = await create('delete-unknown-role');
        const before = await snapshot(policy);
        const error = await refusal(edit([{ kind: 'delete-role', policy, role: 'ghost' }]));
        expect(error).toBeInstanceOf(RoleNotFoundError);
        expect(error).toMatchObject({ policy, role: 'ghost' });
        expect(await snapshot(policy)).toEqual(before);
      });

      it('should refuse to delete a role a subject holds with RoleInUseError', async () => {
        const { policy } = await create('role-held');
        const before = await snapshot(policy);
        const error = await refusal(edit([{ kind: 'delete-role', policy, role: 'reader' }]));
        expect(error).toBeInstanceOf(RoleInUseError);
        expect(error).toMatchObject({ policy, role: 'reader' });
        expect(await snapshot(policy)).toEqual(before);
      });

      it('should refuse to delete a role an identity role gives with RoleInUseError, until the mapping is gone', async () => {
        const { policy } = await create('role-mapped');
        const before = await snapshot(policy);
        const error = await refusal(edit([{ kind: 'delete-role', policy, role: 'archivist' }]));
        expect(error).toBeInstanceOf(RoleInUseError);
        expect(error).toMatchObject({ policy, role: 'archivist' });
        expect(await snapshot(policy)).toEqual(before);

        const result = await edit([
          { kind: 'delete-identity-role', policy, identityRole: 'notes-archivist' },
          { kind: 'delete-role', policy, role: 'archivist' },
        ]);
        expect(result.changed).toEqual([true, true]);
        expect((await store.getPolicy(policy))?.document.roles).not.toHaveProperty('archivist');
        expect(await store.grantsFor(policy, 'nobody', ['notes-archivist'])).toEqual({ revision: result.revision, subjectRoles: [], subjectPermissions: [], identityRoles: new Map(), resourceRoles: new Map(), rolePermissions: new Map() });
      });
    });

    describe('when identity roles are put and deleted', () => {
      it('should map an identity role to roles, and replace the mapping; the same mapping should change nothing', async () => {
        const { policy } = await create('put-identity-role');
        const created = await edit([{ kind: 'put-identity-role', policy, identityRole: 'notes-reader', roles: ['reader'] }]);
        expect(created.changed).toEqual([true]);
        expect(await store.grantsFor(policy, 'nobody', ['notes-reader'])).toEqual({
          revision: created.revision,
          subjectRoles: [],
          subjectPermissions: [],
          identityRoles: new Map([['notes-reader', ['reader']]]),
          resourceRoles: new Map(), rolePermissions: new Map([['reader', ['CanRead']]]),
        });

        const replaced = await edit([{ kind: 'put-identity-role', policy, identityRole: 'notes-reader', roles: ['writer', 'reader', 'writer'] }]);
        expect(replaced.changed).toEqual([true]);
        expect(unordered((await store.getPolicy(policy))?.document.identityRoles['notes-reader'])).toEqual(['reader', 'writer']);
        expect(unordered((await store.grantsFor(policy, 'nobody', ['notes-reader']))?.rolePermissions)).toEqual(
          new Map([
            ['reader', ['CanRead']],
            ['writer', ['CanRead', 'CanWrite']],
          ]),
        );
        expect(await edit([{ kind: 'put-identity-role', policy, identityRole: 'notes-reader', roles: ['reader', 'writer'] }])).toMatchObject({ revision: replaced.revision, changed: [false] });
      });

      it('should refuse roles the policy does not define with RoleNotFoundError', async () => {
        const { policy } = await create('identity-role-unknown-role');
        const before = await snapshot(policy);
        for (const identityRole of ['notes-reader', 'notes-admin']) {
          const error = await refusal(edit([{ kind: 'put-identity-role', policy, identityRole, roles: ['reader', 'ghost'] }]));
          expect(error).toBeInstanceOf(RoleNotFoundError);
          expect(error).toMatchObject({ policy, role: 'ghost' });
        }
        expect(await snapshot(policy)).toEqual(before);
      });

      it('should delete an identity role, and deleting one not mapped should change nothing', async () => {
        const { policy } = await create('delete-identity-role');
        const deleted = await edit([{ kind: 'delete-identity-role', policy, identityRole: 'notes-admin' }]);
        expect(deleted.changed).toEqual([true]);
        expect((await store.grantsFor(policy, 'nobody', ['notes-admin']))?.identityRoles).toEqual(new Map());
        expect(Object.keys((await store.getPolicy(policy))?.document.identityRoles ?? {}).sort()).toEqual(['notes-archivist', 'notes-writer']);
        expect(
          await edit([
            { kind: 'delete-identity-role', policy, identityRole: 'notes-admin' },
            { kind: 'delete-identity-role', policy, identityRole: 'never-mapped' },
          ]),
        ).toMatchObject({ revision: deleted.revision, changed: [false, false] });
      });
    });

    describe('when an edit is conditional on a revision', () => {
      it('should apply it when the revision matches', async () => {
        const { policy, revision } = await create('if-match');
        const result = await edit([{ kind: 'grant-role', policy, subject: 'ann', role: 'reader', ifRevision: revision }]);
        expect(result.changed).toEqual([true]);
        expect(await revisionOf(policy)).toBe(result.revision);
        expect((await store.grantsFor(policy, 'ann', []))?.subjectRoles).toEqual(['reader']);
      });

      it('should refuse a stale revision with RevisionConflictError and change nothing', async () => {
        const { policy, revision: stale } = await create('if-stale');
        const { revision: actual } = await edit([{ kind: 'grant-role', policy, subject: 'ann', role: 'reader' }]);
        const before = await snapshot(policy);
        const error = await refusal(edit([{ kind: 'put-role', policy, role: 'editor', permissions: ['CanEdit'], ifRevision: stale }]));
        expect(error).toBeInstanceOf(RevisionConflictError);
        expect(error).toMatchObject({ policy, expected: stale, actual });
        expect(await snapshot(policy)).toEqual(before);
      });

      it('should refuse a stale revision even when the edit would change nothing', async () => {
        const { policy, revision: stale } = await create('if-stale-noop');
        const { revision: actual } = await edit([{ kind: 'grant-role', policy, subject: 'ann', role: 'reader' }]);
        const error = await refusal(edit([{ kind: 'grant-role', policy, subject: 'susan', role: 'reader', ifRevision: stale }]));
        expect(error).toBeInstanceOf(RevisionConflictError);
        expect(error).toMatchObject({ policy, expected: stale, actual });
      });

      it('should create a policy when the revision is 0 and the policy does not exist', async () => {
        const policy = policyName('if-zero');
        const result = await edit([{ kind: 'put-policy', policy, document: note(), ifRevision: 0 }]);
        expect(result.changed).toEqual([true]);
        expect(await revisionOf(policy)).toBe(result.revision);
      });

      it('should refuse revision 0 when the policy exists, with RevisionConflictError', async () => {
        const { policy, revision } = await create('if-zero-exists');
        const before = await snapshot(policy);
        const error = await refusal(edit([{ kind: 'put-policy', policy, document: { roles: { editor: ['CanEdit'] } }, ifRevision: 0 }]));
        expect(error).toBeInstanceOf(RevisionConflictError);
        expect(error).toMatchObject({ policy, expected: 0, actual: revision });
        expect(await snapshot(policy)).toEqual(before);
      });

      it('should refuse a revision above 0 when the policy does not exist, with RevisionConflictError (actual 0)', async () => {
        const { revision } = await create('if-missing-other');
        const policy = policyName('if-missing');
        const error = await refusal(edit([{ kind: 'put-policy', policy, document: note(), ifRevision: revision }]));
        expect(error).toBeInstanceOf(RevisionConflictError);
        expect(error).toMatchObject({ policy, expected: revision, actual: 0 });
        expect(await store.getPolicy(policy)).toBeUndefined();
      });
    });

    describe('when a list of edits is applied', () => {
      it('should let later edits see what earlier ones did', async () => {
        const policy = policyName('one-transaction');
        const result = await edit([
          { kind: 'put-policy', policy, document: { roles: { reader: ['CanRead'] } }, ifRevision: 0 },
          { kind: 'put-role', policy, role: 'editor', permissions: ['CanEdit'] },
          { kind: 'grant-role', policy, subject: 'ann', role: 'editor' },
          { kind: 'put-identity-role', policy, identityRole: 'notes-editor', roles: ['editor', 'reader'] },
        ]);
        expect(result.changed).toEqual([true, true, true, true]);
        expect(unordered(await store.grantsFor(policy, 'ann', ['notes-editor']))).toEqual(
          unordered({
            revision: result.revision,
            subjectRoles: ['editor'],
            subjectPermissions: [],
            identityRoles: new Map([['notes-editor', ['editor', 'reader']]]),
            resourceRoles: new Map(),
            rolePermissions: new Map([
              ['editor', ['CanEdit']],
              ['reader', ['CanRead']],
            ]),
          }),
        );
      });

      it('should change nothing when the last edit fails: no revision, no document, no audit entry, no notification', async () => {
        const recorder = record();
        const { policy } = await create('atomic');
        const before = await snapshot(policy);
        const { value, storeRevision, heard } = await between(recorder, [policy], async () => {
          const error = await refusal(
            edit([
              { kind: 'grant-role', policy, subject: 'ann', role: 'reader' },
              { kind: 'put-role', policy, role: 'editor', permissions: ['CanEdit'] },
              { kind: 'grant-permission', policy, subject: 'ann', permission: 'CanShare' },
              { kind: 'grant-role', policy, subject: 'ann', role: 'ghost' },
            ]),
          );
          return { error, after: await edit([]) };
        });
        expect(value.error).toBeInstanceOf(RoleNotFoundError);
        expect(value.after.revision).toBe(storeRevision);
        expect(await snapshot(policy)).toEqual({ ...before, listed: expect.any(Array) });
        expect(await revisionOf(policy)).toBe(before.stored?.revision);
        expect(await store.grantsFor(policy, 'ann', [])).toMatchObject({ subjectRoles: [], subjectPermissions: [] });
        expect(heard).toEqual([]);
      });

      it('should change no policy when an edit of another policy fails', async () => {
        const first = await create('atomic-first');
        const second = await create('atomic-second');
        const before = [await snapshot(first.policy), await snapshot(second.policy)];
        const error = await refusal(
          edit([
            { kind: 'grant-role', policy: first.policy, subject: 'ann', role: 'reader' },
            { kind: 'delete-role', policy: second.policy, role: 'reader' },
          ]),
        );
        expect(error).toBeInstanceOf(RoleInUseError);
        expect([await snapshot(first.policy), await snapshot(second.policy)]).toEqual(before);
      });

      it('should not create a policy when a later edit fails', async () => {
        const policy = policyName('atomic-new');
        const missing = policyName('atomic-missing');
        const error = await refusal(
          edit([
            { kind: 'put-policy', policy, document: note() },
            { kind: 'grant-role', policy: missing, subject: 'ann', role: 'reader' },
          ]),
        );
        expect(error).toBeInstanceOf(PolicyNotFoundError);
        expect(error).toMatchObject({ policy: missing });
        expect(await store.getPolicy(policy)).toBeUndefined();
        expect((await store.listPolicies()).map((summary) => summary.name)).not.toContain(policy);
        expect(await store.audit({ policy, limit: 10 })).toEqual([]);
      });

      it('should change nothing for an empty list', async () => {
        await create('empty-list');
        const first = await edit([]);
        expect(first.changed).toEqual([]);
        expect(first.revision).toBeGreaterThan(0);
        expect(await edit([])).toEqual(first);
      });
    });

    describe('when a name is invalid', () => {
      const cases: [string, (policy: string) => PolicyEdit, string][] = [
        ['an empty policy', () => ({ kind: 'grant-role', policy: '', subject: 'ann', role: 'reader' }), 'policy'],
        ["a policy '*'", () => ({ kind: 'put-policy', policy: '*', document: {} }), 'policy'],
        ['a policy of 256 characters', () => ({ kind: 'put-policy', policy: 'p'.repeat(256), document: {} }), 'policy'],
        ['a subject of 256 characters', (policy) => ({ kind: 'grant-role', policy, subject: 's'.repeat(256), role: 'reader' }), 'subject'],
        ["a subject '*'", (policy) => ({ kind: 'grant-permission', policy, subject: '*', permission: 'CanRead' }), 'subject'],
        ['an empty subject', (policy) => ({ kind: 'revoke-role', policy, subject: '', role: 'reader' }), 'subject'],
        ['a role with NUL', (policy) => ({ kind: 'grant-role', policy, subject: 'ann', role: 'read\u0000er' }), 'role'],
        ["a role '*'", (policy) => ({ kind: 'grant-role', policy, subject: 'ann', role: '*' }), 'role'],
        ["a role '*' put", (policy) => ({ kind: 'put-role', policy, role: '*', permissions: ['CanRead'] }), 'role'],
        ['a role to delete with a leading space', (policy) => ({ kind: 'delete-role', policy, role: ' reader' }), 'role'],
        ['a permission with a leading space', (policy) => ({ kind: 'grant-permission', policy, subject: 'ann', permission: ' CanRead' }), 'permission'],
        ['an empty permission to revoke', (policy) => ({ kind: 'revoke-permission', policy, subject: 'susan', permission: '' }), 'permission'],
        ["a permission containing '*'", (policy) => ({ kind: 'grant-permission', policy, subject: 'ann', permission: 'Can*' }), 'permission'],
        ['an empty permission of a role', (policy) => ({ kind: 'put-role', policy, role: 'editor', permissions: ['CanEdit', ''] }), 'permissions[1]'],
        ["an identity role '*'", (policy) => ({ kind: 'put-identity-role', policy, identityRole: '*', roles: ['reader'] }), 'identityRole'],
        ['an identity role to delete with NUL', (policy) => ({ kind: 'delete-identity-role', policy, identityRole: 'notes-admin\u0000' }), 'identityRole'],
        ["a role '*' of an identity role", (policy) => ({ kind: 'put-identity-role', policy, identityRole: 'notes-reader', roles: ['*'] }), 'roles[0]'],
        ['an empty permission in a document', (policy) => ({ kind: 'put-policy', policy, document: { roles: { reader: [''] } } }), 'roles.reader[0]'],
        ["a subject '*' in a document", (policy) => ({ kind: 'put-policy', policy, document: { roles: { reader: ['CanRead'] }, subjects: { '*': { roles: ['reader'] } } } }), 'subjects.*'],
        ['an identity role with a leading space in a document', (policy) => ({ kind: 'put-policy', policy, document: { identityRoles: { ' notes-admin': [] } } }), 'identityRoles. notes-admin'],
      ];

      it.each(cases)('should refuse %s with InvalidPolicyError naming the field, and write nothing', async (_case, make, field) => {
        const { policy } = await create('invalid');
        const before = await snapshot(policy);
        const error = await refusal(edit([{ kind: 'grant-role', policy, subject: 'ann', role: 'reader' }, make(policy)]));
        expect(error).toBeInstanceOf(InvalidPolicyError);
        expect(error).toMatchObject({ field });
        expect(await snapshot(policy)).toEqual(before);
      });

      it('should accept names of 200 characters, with inner spaces, in any script', async () => {
        const policy = policyName('long').padEnd(200, 'x');
        const subject = 's'.repeat(200);
        const permission = 'P'.repeat(200);
        const result = await edit([
          { kind: 'put-policy', policy, document: { roles: { 'lecteur des notes': ['Peut lire'] } } },
          { kind: 'grant-permission', policy, subject, permission },
          { kind: 'grant-role', policy, subject: 'José Müller 山田', role: 'lecteur des notes' },
        ]);
        expect(result.changed).toEqual([true, true, true]);
        expect((await store.grantsFor(policy, subject, []))?.subjectPermissions).toEqual([permission]);
        expect((await store.grantsFor(policy, 'José Müller 山田', []))?.rolePermissions).toEqual(new Map([['lecteur des notes', ['Peut lire']]]));
        expect((await store.listPolicies()).map((summary) => summary.name)).toContain(policy);
      });
    });

    describe('when revisions are read', () => {
      it('should grow the store revision with every changing edit and give each policy the revision of its last change', async () => {
        const first = await create('revision-first');
        const second = await create('revision-second');
        expect(second.revision).toBeGreaterThan(first.revision);

        const granted = await edit([{ kind: 'grant-role', policy: first.policy, subject: 'ann', role: 'reader' }]);
        expect(granted.revision).toBeGreaterThan(second.revision);
        expect(await revisionOf(first.policy)).toBe(granted.revision);
        expect(await revisionOf(second.policy)).toBe(second.revision);

        const put = await edit([{ kind: 'put-role', policy: second.policy, role: 'editor', permissions: ['CanEdit'] }]);
        expect(put.revision).toBeGreaterThan(granted.revision);
        expect(await revisionOf(first.policy)).toBe(granted.revision);
        expect(await revisionOf(second.policy)).toBe(put.revision);

        expect(await edit([{ kind: 'grant-role', policy: first.policy, subject: 'ann', role: 'reader' }])).toMatchObject({ revision: put.revision, changed: [false] });
        expect(await revisionOf(first.policy)).toBe(granted.revision);
      });

      it('should give each changing edit of a list a revision of its own', async () => {
        const first = await create('revisions-first');
        const second = await create('revisions-second');
        const result = await edit([
          { kind: 'grant-role', policy: first.policy, subject: 'ann', role: 'reader' },
          { kind: 'grant-role', policy: first.policy, subject: 'susan', role: 'reader' },
          { kind: 'put-role', policy: second.policy, role: 'editor', permissions: ['CanEdit'] },
          { kind: 'grant-permission', policy: first.policy, subject: 'ann', permission: 'CanShare' },
        ]);
        expect(result.changed).toEqual([true, false, true, true]);
        const firstEntries = await store.audit({ policy: first.policy, after: 0, limit: 10 });
        const secondEntries = await store.audit({ policy: second.policy, after: 0, limit: 10 });
        const entries = [...firstEntries.slice(1), ...secondEntries.slice(1)].sort((a, b) => a.id - b.id);
        expect(entries.map((entry) => entry.action)).toEqual(['grant-role', 'put-role', 'grant-permission']);
        const revisions = entries.map((entry) => entry.revision);
        expect(revisions[0]).toBeGreaterThan(second.revision);
        expect(revisions[1]).toBeGreaterThan(revisions[0]);
        expect(revisions[2]).toBeGreaterThan(revisions[1]);
        expect(revisions[2]).toBe(result.revision);
        expect(await revisionOf(first.policy)).toBe(revisions[2]);
        expect(await revisionOf(second.policy)).toBe(revisions[1]);
      });
    });

    describe('when the audit trail is read', () => {
      it('should hold one entry per changing edit, in order, with who, what, when and the revision', async () => {
        const { policy, revision: created } = await create('audit');
        const result = await edit([
          { kind: 'grant-role', policy, subject: 'ann', role: 'reader' },
          { kind: 'grant-role', policy, subject: 'ann', role: 'reader' },
          { kind: 'grant-permission', policy, subject: 'ann', permission: 'CanShare' },
          { kind: 'put-role', policy, role: 'editor', permissions: ['CanEdit'] },
          { kind: 'put-identity-role', policy, identityRole: 'notes-editor', roles: ['editor'] },
          { kind: 'delete-identity-role', policy, identityRole: 'never-mapped' },
          { kind: 'revoke-role', policy, subject: 'susan', role: 'reader' },
          { kind: 'delete-identity-role', policy, identityRole: 'notes-editor' },
          { kind: 'delete-role', policy, role: 'editor' },
          { kind: 'revoke-permission', policy, subject: 'ann', permission: 'CanShare' },
        ]);
        expect(result.changed).toEqual([true, false, true, true, true, false, true, true, true, true]);
        const entries = await store.audit({ policy, limit: 100 });
        expect(entries.map(({ action, target }) => ({ action, target }))).toEqual([
          { action: 'put-policy', target: {} },
          { action: 'grant-role', target: { subject: 'ann' } },
          { action: 'grant-permission', target: { subject: 'ann' } },
          { action: 'put-role', target: { role: 'editor' } },
          { action: 'put-identity-role', target: { identityRole: 'notes-editor' } },
          { action: 'revoke-role', target: { subject: 'susan' } },
          { action: 'delete-identity-role', target: { identityRole: 'notes-editor' } },
          { action: 'delete-role', target: { role: 'editor' } },
          { action: 'revoke-permission', target: { subject: 'ann' } },
        ]);
        expectIncreasing(entries.map((entry) => entry.id));
        expectIncreasing(entries.map((entry) => entry.revision));
        expect(entries[0].revision).toBe(created);
        expect(entries.at(-1)?.revision).toBe(result.revision);
        for (const entry of entries) {
          expect(entry).toMatchObject({ actor: ACTOR, policy });
          expect(entry.at).toMatch(ISO_8601);
          expect(Math.abs(Date.parse(entry.at) - Date.now())).toBeLessThan(5 * 60_000);
        }
      });

      it('should show the part each edit touched, before and after', async () => {
        const { policy } = await create('audit-states');
        const replacement: PolicyDocument = { roles: { reader: ['CanRead'] }, subjects: { ann: { roles: ['reader'] } } };
        await edit([
          { kind: 'grant-role', policy, subject: 'ann', role: 'reader' },
          { kind: 'grant-permission', policy, subject: 'ann', permission: 'CanShare' },
          { kind: 'put-role', policy, role: 'editor', permissions: ['CanEdit'] },
          { kind: 'put-role', policy, role: 'editor', permissions: ['CanPublish', 'CanEdit'] },
          { kind: 'put-identity-role', policy, identityRole: 'notes-editor', roles: ['editor'] },
          { kind: 'delete-identity-role', policy, identityRole: 'notes-editor' },
          { kind: 'delete-role', policy, role: 'editor' },
          { kind: 'revoke-role', policy, subject: 'susan', role: 'reader' },
          { kind: 'put-policy', policy, document: replacement },
        ]);
        const entries = await store.audit({ policy, limit: 100 });
        const normalisedNote = { ...note(), subjects: { susan: { roles: ['reader'], permissions: ['CanShare'] }, tom: { roles: ['writer'], permissions: [] } } };
        const beforeReplacement = { ...normalisedNote, subjects: { susan: { roles: [], permissions: ['CanShare'] }, tom: { roles: ['writer'], permissions: [] }, ann: { roles: ['reader'], permissions: ['CanShare'] } } };
        expect(entries.map(({ action, before, after }) => unordered({ action, before, after }))).toEqual(
          [
            { action: 'put-policy', before: null, after: normalisedNote },
            { action: 'grant-role', before: { roles: [], permissions: [] }, after: { roles: ['reader'], permissions: [] } },
            { action: 'grant-permission', before: { roles: ['reader'], permissions: [] }, after: { roles: ['reader'], permissions: ['CanShare'] } },
            { action: 'put-role', before: null, after: { permissions: ['CanEdit'] } },
            { action: 'put-role', before: { permissions: ['CanEdit'] }, after: { permissions: ['CanEdit', 'CanPublish'] } },
            { action: 'put-identity-role', before: null, after: { roles: ['editor'] } },
            { action: 'delete-identity-role', before: { roles: ['editor'] }, after: null },
            { action: 'delete-role', before: { permissions: ['CanEdit', 'CanPublish'] }, after: null },
            { action: 'revoke-role', before: { roles: ['reader'], permissions: ['CanShare'] }, after: { roles: [], permissions: ['CanShare'] } },
            { action: 'put-policy', before: beforeReplacement, after: { roles: { reader: ['CanRead'] }, subjects: { ann: { roles: ['reader'], permissions: [] } }, identityRoles: {} } },
          ].map(unordered),
        );
      });

      it('should read the entries of one policy, of one subject, or of both', async () => {
        const first = await create('audit-filter-first');
        const second = await create('audit-filter-second');
        const ann = `ann-${run}-${++count}`;
        await edit([
          { kind: 'grant-role', policy: first.policy, subject: ann, role: 'reader' },
          { kind: 'grant-role', policy: second.policy, subject: ann, role: 'writer' },
          { kind: 'grant-role', policy: first.policy, subject: 'bob', role: 'reader' },
          { kind: 'put-role', policy: first.policy, role: 'editor', permissions: ['CanEdit'] },
          { kind: 'revoke-role', policy: second.policy, subject: ann, role: 'writer' },
        ]);
        const summary = (entries: AuditEntry[]) => entries.map(({ action, policy, target }) => ({ action, policy, target }));
        expect(summary(await store.audit({ policy: first.policy, limit: 100 }))).toEqual([
          { action: 'put-policy', policy: first.policy, target: {} },
          { action: 'grant-role', policy: first.policy, target: { subject: ann } },
          { action: 'grant-role', policy: first.policy, target: { subject: 'bob' } },
          { action: 'put-role', policy: first.policy, target: { role: 'editor' } },
        ]);
        expect(summary(await store.audit({ subject: ann, limit: 100 }))).toEqual([
          { action: 'grant-role', policy: first.policy, target: { subject: ann } },
          { action: 'grant-role', policy: second.policy, target: { subject: ann } },
          { action: 'revoke-role', policy: second.policy, target: { subject: ann } },
        ]);
        expect(summary(await store.audit({ policy: second.policy, subject: ann, limit: 100 }))).toEqual([
          { action: 'grant-role', policy: second.policy, target: { subject: ann } },
          { action: 'revoke-role', policy: second.policy, target: { subject: ann } },
        ]);
        expect(await store.audit({ policy: policyName('never-created'), limit: 100 })).toEqual([]);
      });

      it('should page, oldest first, with after and limit', async () => {
        const { policy } = await create('audit-pages');
        await edit(['a', 'b', 'c', 'd', 'e'].map((subject): PolicyEdit => ({ kind: 'grant-role', policy, subject, role: 'reader' })));
        const all = await store.audit({ policy, limit: 100 });
        expect(all).toHaveLength(6);
        const pages: AuditEntry[][] = [];
        let after: number | undefined;
        for (let page = 0; page < 4; page++) {
          const entries = await store.audit({ policy, after, limit: 2 });
          pages.push(entries);
          after = entries.at(-1)?.id ?? after;
        }
        expect(pages.map((entries) => entries.length)).toEqual([2, 2, 2, 0]);
        expect(pages.flat()).toEqual(all);
        expect(await store.audit({ policy, after: all[3].id, limit: 100 })).toEqual(all.slice(4));
        expect(await store.audit({ policy, subject: 'c', after: all[0].id, limit: 1 })).toEqual([all[3]]);
      });
    });

    describe('when listeners are subscribed', () => {
      it('should tell them of every subject edit, once and in order: policy, subject and revision', async () => {
        const recorder = record();
        const { policy, revision: created } = await create('notify-subject');
        const result = await edit([
          { kind: 'grant-role', policy, subject: 'ann', role: 'reader' },
          { kind: 'grant-permission', policy, subject: 'ann', permission: 'CanShare' },
          { kind: 'grant-role', policy, subject: 'ann', role: 'reader' },
          { kind: 'revoke-role', policy, subject: 'susan', role: 'reader' },
          { kind: 'revoke-permission', policy, subject: 'susan', permission: 'CanShare' },
        ]);
        await recorder.untilRevision(policy, result.revision);
        await barrier(recorder);
        const revisions = (await store.audit({ policy, limit: 100 })).map((entry) => entry.revision);
        expect(recorder.changes.filter((change) => change.policy === policy)).toEqual([
          { policy, revision: created },
          { policy, subject: 'ann', revision: revisions[1] },
          { policy, subject: 'ann', revision: revisions[2] },
          { policy, subject: 'susan', revision: revisions[3] },
          { policy, subject: 'susan', revision: result.revision },
        ]);
      });

      it('should tell them of role, identity-role and policy edits without a subject', async () => {
        const recorder = record();
        const { policy, revision: created } = await create('notify-policy');
        const result = await edit([
          { kind: 'put-role', policy, role: 'editor', permissions: ['CanEdit'] },
          { kind: 'put-identity-role', policy, identityRole: 'notes-editor', roles: ['editor'] },
          { kind: 'delete-identity-role', policy, identityRole: 'notes-editor' },
          { kind: 'delete-role', policy, role: 'editor' },
          { kind: 'put-policy', policy, document: {} },
        ]);
        await recorder.untilRevision(policy, result.revision);
        await barrier(recorder);
        const revisions = (await store.audit({ policy, limit: 100 })).map((entry) => entry.revision);
        expect(revisions).toHaveLength(6);
        expect(recorder.changes.filter((change) => change.policy === policy)).toEqual(revisions.map((revision) => ({ policy, revision })));
        for (const change of recorder.changes.filter((told) => told.policy === policy)) expect(change.subject).toBeUndefined();
        expect(revisions[0]).toBe(created);
      });

      it('should tell nobody of edits that change nothing', async () => {
        const recorder = record();
        const { policy } = await create('notify-noop');
        const { value, heard } = await between(recorder, [policy], () =>
          edit([
            { kind: 'put-policy', policy, document: note() },
            { kind: 'grant-role', policy, subject: 'susan', role: 'reader' },
            { kind: 'revoke-permission', policy, subject: 'ann', permission: 'CanShare' },
            { kind: 'put-role', policy, role: 'reader', permissions: ['CanRead'] },
            { kind: 'put-identity-role', policy, identityRole: 'notes-admin', roles: ['moderator'] },
            { kind: 'delete-identity-role', policy, identityRole: 'never-mapped' },
          ]),
        );
        expect(value.changed).toEqual([false, false, false, false, false, false]);
        expect(heard).toEqual([]);
      });

      it('should tell them only once the change can be read', async () => {
        const { policy } = await create('notify-read');
        let stop = () => {};
        const read = new Promise<DecisionGrants | undefined>((resolve) => {
          stop = store.onChange((change) => {
            if (change.policy === policy && change.subject === 'ann') resolve(store.grantsFor(policy, 'ann', []));
          });
        });
        try {
          const result = await edit([{ kind: 'grant-role', policy, subject: 'ann', role: 'reader' }]);
          expect(await within(read, () => `A change of '${policy}' for 'ann'`)).toMatchObject({ revision: result.revision, subjectRoles: ['reader'] });
        } finally {
          stop();
        }
      });

      it('should neither fail the edit nor skip the other listeners when one listener throws', async () => {
        const { policy } = await create('notify-throws');
        const stop = store.onChange(() => {
          throw new Error('a listener that fails');
        });
        const after = record();
        try {
          const result = await edit([{ kind: 'grant-role', policy, subject: 'ann', role: 'reader' }]);
          expect(result.changed).toEqual([true]);
          await after.untilRevision(policy, result.revision);
          expect((await store.grantsFor(policy, 'ann', []))?.subjectRoles).toEqual(['reader']);
        } finally {
          stop();
        }
      });

      it('should stop telling a listener that unsubscribed, and keep telling the others', async () => {
        const stays = record();
        const leaves = record();
        const { policy } = await create('notify-unsubscribe');
        leaves.stop();
        const result = await edit([{ kind: 'grant-role', policy, subject: 'ann', role: 'reader' }]);
        await stays.untilRevision(policy, result.revision);
        await barrier(stays);
        expect(stays.changes).toContainEqual({ policy, subject: 'ann', revision: result.revision });
        expect(leaves.changes.filter((change) => (change.revision ?? 0) >= result.revision)).toEqual([]);
      });
    });

    describe('when subjects are listed in pages', () => {
      it('should page subjects with type-wide grants in code-unit order, with prefix search, and undefined for an unknown policy', async () => {
        const { policy } = await create('subjects-page', {
          roles: { reader: ['CanRead'], writer: ['CanWrite'] },
          subjects: { 'sam-2': { roles: ['reader'] }, Sam: { permissions: ['CanShare'] }, 'sam-1': { roles: ['writer', 'reader'], permissions: ['CanShare'] }, zed: { roles: ['reader'] } },
        });
        expect(await store.listSubjects(policy, { limit: 2 })).toEqual([
          { subject: 'Sam', roles: [], permissions: ['CanShare'] },
          expect.objectContaining({ subject: 'sam-1' }),
        ]);
        expect(unordered(await store.listSubjects(policy, { after: 'Sam', limit: 1 }))).toEqual([{ subject: 'sam-1', roles: ['reader', 'writer'], permissions: ['CanShare'] }]);
        expect((await store.listSubjects(policy, { prefix: 'sam-', limit: 10 }))?.map((entry) => entry.subject)).toEqual(['sam-1', 'sam-2']);
        expect((await store.listSubjects(policy, { prefix: 'sam-', after: 'sam-1', limit: 10 }))?.map((entry) => entry.subject)).toEqual(['sam-2']);
        expect(await store.listSubjects(policy, { prefix: 'nobody', limit: 10 })).toEqual([]);
        expect(await store.listSubjects(policyName('missing'), { limit: 10 })).toBeUndefined();
      });

      it('should read a policy without its subjects when asked', async () => {
        const { policy, revision } = await create('without-subjects');
        const stored = await store.getPolicy(policy, { subjects: false });
        expect(stored?.revision).toBe(revision);
        expect(stored?.document.subjects).toEqual({});
        expect(unordered(stored?.document.roles)).toEqual(unordered(note().roles));
        expect(stored?.document.identityRoles).toEqual(note().identityRoles);
        expect(Object.keys((await store.getPolicy(policy))!.document.subjects).length).toBeGreaterThan(0);
      });
    });

    describe('when the audit trail is read newest first', () => {
      it('should give entries newest first before the id `before`, filtered as oldest first', async () => {
        const { policy } = await create('audit-newest');
        await edit([
          { kind: 'grant-role', policy, subject: 'ann', role: 'reader' },
          { kind: 'grant-role', policy, subject: 'bob', role: 'reader' },
          { kind: 'grant-role', policy, subject: 'ann', role: 'writer' },
        ]);
        const oldest = await store.audit({ policy, limit: 100 });
        const newest = await store.audit({ policy, order: 'newest-first', limit: 100 });
        expect(newest).toEqual([...oldest].reverse());
        const page = await store.audit({ policy, order: 'newest-first', before: newest[0].id, limit: 2 });
        expect(page).toEqual(newest.slice(1, 3));
        expect((await store.audit({ policy, subject: 'ann', order: 'newest-first', limit: 100 })).map((entry) => entry.after)).toEqual([
          { roles: expect.arrayContaining(['reader', 'writer']), permissions: [] },
          { roles: ['reader'], permissions: [] },
        ]);
      });
    });

    describe('when roles are granted on resources', () => {
      it('should give the roles held on each asked resource, and nothing type-wide', async () => {
        const { policy } = await create('resource-grant');
        const result = await edit([
          { kind: 'grant-resource-role', policy, resource: 'note-1', subject: 'ann', role: 'writer' },
          { kind: 'grant-resource-role', policy, resource: 'note-1', subject: 'ann', role: 'writer' },
          { kind: 'grant-resource-role', policy, resource: 'note-2', subject: 'ann', role: 'reader' },
          { kind: 'grant-resource-role', policy, resource: 'note-1', subject: 'bob', role: 'archivist' },
        ]);
        expect(result.changed).toEqual([true, false, true, true]);
        const grants = await store.grantsFor(policy, 'ann', [], ['note-1', 'note-2', 'note-3']);
        expect(unordered(grants)).toEqual(
          unordered({
            revision: result.revision,
            subjectRoles: [],
            subjectPermissions: [],
            identityRoles: new Map(),
            resourceRoles: new Map([
              ['note-1', ['writer']],
              ['note-2', ['reader']],
            ]),
            rolePermissions: new Map([
              ['writer', ['CanRead', 'CanWrite']],
              ['reader', ['CanRead']],
            ]),
          }),
        );
        expect((await store.grantsFor(policy, 'ann', []))?.resourceRoles).toEqual(new Map());
        expect((await store.grantsFor(policy, 'ann', [], ['note-3']))?.resourceRoles).toEqual(new Map());
        expect(unordered((await store.grantsFor(policy, 'bob', [], ['note-1']))?.resourceRoles)).toEqual(new Map([['note-1', ['archivist']]]));
      });

      it('should treat resource ids such as __proto__, paths and non-ASCII as plain names', async () => {
        const { policy } = await create('resource-names');
        const ids = ['__proto__', 'constructor', 'notes/42', 'café ☕', 'a'.repeat(255)];
        await edit(ids.map((resource) => ({ kind: 'grant-resource-role', policy, resource, subject: 'ann', role: 'reader' }) as const));
        const grants = await store.grantsFor(policy, 'ann', [], ids);
        expect([...(grants?.resourceRoles.keys() ?? [])].sort(byCodeUnits)).toEqual([...ids].sort(byCodeUnits));
        expect((await store.resourceGrants(policy, '__proto__'))?.subjects).toEqual({ ann: ['reader'] });
      });

      it('should revoke a resource role, and revoking one not held should change nothing', async () => {
        const { policy } = await create('resource-revoke');
        await edit([{ kind: 'grant-resource-role', policy, resource: 'note-1', subject: 'ann', role: 'reader' }]);
        const result = await edit([
          { kind: 'revoke-resource-role', policy, resource: 'note-1', subject: 'ann', role: 'reader' },
          { kind: 'revoke-resource-role', policy, resource: 'note-1', subject: 'ann', role: 'reader' },
          { kind: 'revoke-resource-role', policy, resource: 'note-9', subject: 'zed', role: 'writer' },
        ]);
        expect(result.changed).toEqual([true, false, false]);
        expect((await store.grantsFor(policy, 'ann', [], ['note-1']))?.resourceRoles).toEqual(new Map());
      });

      it('should refuse a role the policy does not define with RoleNotFoundError, and write nothing', async () => {
        const { policy } = await create('resource-unknown-role');
        const before = await snapshot(policy);
        await expect(
          edit([
            { kind: 'grant-resource-role', policy, resource: 'note-1', subject: 'ann', role: 'reader' },
            { kind: 'grant-resource-role', policy, resource: 'note-1', subject: 'ann', role: 'owner' },
          ]),
        ).rejects.toThrow(RoleNotFoundError);
        expect(await snapshot(policy)).toEqual(before);
        expect((await store.resourceGrants(policy, 'note-1'))?.subjects).toEqual({});
      });

      it('should refuse a resource edit on a policy that does not exist with PolicyNotFoundError', async () => {
        await expect(edit([{ kind: 'grant-resource-role', policy: policyName('missing'), resource: 'r', subject: 'ann', role: 'reader' }])).rejects.toThrow(PolicyNotFoundError);
        await expect(edit([{ kind: 'delete-resource', policy: policyName('missing'), resource: 'r' }])).rejects.toThrow(PolicyNotFoundError);
      });

      it('should drop every grant on a deleted resource and leave other resources alone; deleting it again changes nothing', async () => {
        const { policy } = await create('resource-delete');
        await edit([
          { kind: 'grant-resource-role', policy, resource: 'note-1', subject: 'ann', role: 'writer' },
          { kind: 'grant-resource-role', policy, resource: 'note-1', subject: 'bob', role: 'reader' },
          { kind: 'grant-resource-role', policy, resource: 'note-2', subject: 'ann', role: 'reader' },
        ]);
        const result = await edit([
          { kind: 'delete-resource', policy, resource: 'note-1' },
          { kind: 'delete-resource', policy, resource: 'note-1' },
        ]);
        expect(result.changed).toEqual([true, false]);
        expect((await store.resourceGrants(policy, 'note-1'))?.subjects).toEqual({});
        expect((await store.grantsFor(policy, 'bob', [], ['note-1']))?.resourceRoles).toEqual(new Map());
        expect((await store.resourceGrants(policy, 'note-2'))?.subjects).toEqual({ ann: ['reader'] });
        const [entry] = (await store.audit({ policy, limit: 100 })).filter((audited) => audited.action === 'delete-resource');
        expect(entry).toMatchObject({ target: { resource: 'note-1' }, after: { subjects: {} } });
        expect(unordered(entry.before)).toEqual({ subjects: { ann: ['writer'], bob: ['reader'] } });
      });

      it('should refuse to delete a role held on a resource, or to put a document without it, with RoleInUseError', async () => {
        const { policy } = await create('resource-role-in-use');
        await edit([{ kind: 'grant-resource-role', policy, resource: 'note-1', subject: 'ann', role: 'archivist' }]);
        const before = await snapshot(policy);
        await expect(edit([{ kind: 'delete-role', policy, role: 'archivist' }])).rejects.toThrow(RoleInUseError);
        await expect(edit([{ kind: 'put-policy', policy, document: { roles: { reader: ['CanRead'] } } }])).rejects.toThrow(RoleInUseError);
        expect(await snapshot(policy)).toEqual(before);
      });

      it('should keep resource grants when a document that keeps their roles is put', async () => {
        const { policy } = await create('resource-put-policy');
        await edit([{ kind: 'grant-resource-role', policy, resource: 'note-1', subject: 'ann', role: 'archivist' }]);
        await edit([{ kind: 'put-policy', policy, document: { roles: { archivist: ['CanArchive', 'CanRead'] } } }]);
        const grants = await store.grantsFor(policy, 'ann', [], ['note-1']);
        expect(grants?.resourceRoles).toEqual(new Map([['note-1', ['archivist']]]));
        expect(unordered(grants?.rolePermissions)).toEqual(new Map([['archivist', ['CanArchive', 'CanRead']]]));
        expect((await store.getPolicy(policy))?.document.subjects).toEqual({});
      });

      it('should list who holds what on a resource, subjects in code-unit order, and undefined for an unknown policy', async () => {
        const { policy, revision: created } = await create('resource-list');
        expect(await store.resourceGrants(policy, 'note-1')).toEqual({ policy, resource: 'note-1', revision: created, subjects: {} });
        const result = await edit([
          { kind: 'grant-resource-role', policy, resource: 'note-1', subject: 'zed', role: 'reader' },
          { kind: 'grant-resource-role', policy, resource: 'note-1', subject: 'Ann', role: 'writer' },
          { kind: 'grant-resource-role', policy, resource: 'note-1', subject: 'Ann', role: 'archivist' },
        ]);
        const listed = await store.resourceGrants(policy, 'note-1');
        expect(listed).toMatchObject({ policy, resource: 'note-1', revision: result.revision });
        expect(Object.keys(listed!.subjects)).toEqual(['Ann', 'zed']);
        expect(unordered(listed!.subjects)).toEqual({ Ann: ['archivist', 'writer'], zed: ['reader'] });
        expect(await store.resourceGrants(policyName('missing'), 'note-1')).toBeUndefined();
      });

      it("should page a subject's resources in code-unit order after `after`, and undefined for an unknown policy", async () => {
        const { policy } = await create('resource-page');
        await edit(['n-3', 'n-1', 'N-2', 'n-4'].map((resource) => ({ kind: 'grant-resource-role', policy, resource, subject: 'ann', role: 'reader' }) as const));
        await edit([
          { kind: 'grant-resource-role', policy, resource: 'n-1', subject: 'ann', role: 'writer' },
          { kind: 'grant-resource-role', policy, resource: 'n-9', subject: 'bob', role: 'reader' },
        ]);
        const first = await store.subjectResources(policy, 'ann', { limit: 2 });
        expect(first?.map((item) => item.resource)).toEqual(['N-2', 'n-1']);
        expect(unordered(first?.[1])).toEqual({ resource: 'n-1', roles: ['reader', 'writer'] });
        expect(await store.subjectResources(policy, 'ann', { after: 'n-1', limit: 10 })).toEqual([
          { resource: 'n-3', roles: ['reader'] },
          { resource: 'n-4', roles: ['reader'] },
        ]);
        expect(await store.subjectResources(policy, 'nobody', { limit: 10 })).toEqual([]);
        expect(await store.subjectResources(policyName('missing'), 'ann', { limit: 10 })).toBeUndefined();
      });

      it('should audit each grant with its resource and subject, the roles before and after, and find it by resource', async () => {
        const { policy } = await create('resource-audit');
        const result = await edit([
          { kind: 'grant-resource-role', policy, resource: 'note-1', subject: 'ann', role: 'reader' },
          { kind: 'grant-resource-role', policy, resource: 'note-1', subject: 'ann', role: 'writer' },
          { kind: 'grant-resource-role', policy, resource: 'note-2', subject: 'ann', role: 'reader' },
          { kind: 'revoke-resource-role', policy, resource: 'note-1', subject: 'ann', role: 'reader' },
        ]);
        const entries = await store.audit({ policy, resource: 'note-1', limit: 100 });
        expect(entries.map((entry) => ({ ...entry, before: unordered(entry.before), after: unordered(entry.after) }))).toEqual([
          expect.objectContaining({ actor: ACTOR, action: 'grant-resource-role', policy, target: { resource: 'note-1', subject: 'ann' }, before: { roles: [] }, after: { roles: ['reader'] } }),
          expect.objectContaining({ action: 'grant-resource-role', before: { roles: ['reader'] }, after: { roles: ['reader', 'writer'] } }),
          expect.objectContaining({ action: 'revoke-resource-role', before: { roles: ['reader', 'writer'] }, after: { roles: ['writer'] }, revision: result.revision }),
        ]);
        expect((await store.audit({ policy, subject: 'ann', limit: 100 })).filter((entry) => entry.action !== 'put-policy')).toHaveLength(4);
      });

      it('should tell listeners of resource grants with policy, subject and resource, and of a deleted resource without a subject', async () => {
        const recorder = record();
        const { policy } = await create('resource-notify');
        const result = await edit([
          { kind: 'grant-resource-role', policy, resource: 'note-1', subject: 'ann', role: 'reader' },
          { kind: 'grant-resource-role', policy, resource: 'note-1', subject: 'ann', role: 'reader' },
          { kind: 'delete-resource', policy, resource: 'note-1' },
        ]);
        await recorder.untilRevision(policy, result.revision);
        await barrier(recorder);
        const told = recorder.changes.filter((change) => change.policy === policy).slice(1);
        expect(told).toEqual([
          { policy, subject: 'ann', resource: 'note-1', revision: result.revisions[0] },
          { policy, resource: 'note-1', revision: result.revision },
        ]);
      });

      it.each([
        ['an empty resource', (policy: string): PolicyEdit => ({ kind: 'grant-resource-role', policy, resource: '', subject: 'ann', role: 'reader' }), 'resource'],
        ['a resource of 256 characters', (policy: string): PolicyEdit => ({ kind: 'delete-resource', policy, resource: 'r'.repeat(256) }), 'resource'],
        ['a resource with a control character', (policy: string): PolicyEdit => ({ kind: 'revoke-resource-role', policy, resource: 'a\u0000b', subject: 'ann', role: 'reader' }), 'resource'],
        ['a subject with surrounding spaces', (policy: string): PolicyEdit => ({ kind: 'grant-resource-role', policy, resource: 'r', subject: ' ann', role: 'reader' }), 'subject'],
        ['a role of 256 characters', (policy: string): PolicyEdit => ({ kind: 'grant-resource-role', policy, resource: 'r', subject: 'ann', role: 'x'.repeat(256) }), 'role'],
      ])('should refuse %s with InvalidPolicyError naming the field, and write nothing', async (_case, makeEdit, field) => {
        const { policy } = await create('resource-invalid');
        const before = await snapshot(policy);
        const error = await edit([makeEdit(policy)]).catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(InvalidPolicyError);
        expect((error as InvalidPolicyError).field).toBe(field);
        expect(await snapshot(policy)).toEqual(before);
      });
    });

    describe('when the store is healthy', () => {
      it('should not report its change feed down', () => {
        expect(store.feedDownSince()).toBeUndefined();
      });
    });

    describe('when a store is opened', () => {
      it('should be empty, and close', async () => {
        const fresh = await open();
        try {
          expect(await fresh.store.listPolicies()).toEqual([]);
          expect(await fresh.store.audit({ limit: 10 })).toEqual([]);
          expect(fresh.store.feedDownSince()).toBeUndefined();
          await expect(fresh.store.close()).resolves.toBeUndefined();
        } finally {
          await fresh.dispose();
        }
      });
    });
  });
}

/** A policy with every kind of grant: roles (one of them '*'), subjects with roles and direct permissions, identity roles. Normalised, except `tom`'s missing permissions. */
function note(): PolicyDocument {
  return {
    roles: { reader: ['CanRead'], writer: ['CanRead', 'CanWrite'], moderator: ['*'], archivist: ['CanArchive'] },
    subjects: { susan: { roles: ['reader'], permissions: ['CanShare'] }, tom: { roles: ['writer'] } },
    identityRoles: { 'notes-admin': ['moderator'], 'notes-writer': ['writer'], 'notes-archivist': ['archivist'] },
  };
}

/** Records every change a store reports, and lets a test await the one it expects (with a timeout that fails it). */
class ChangeRecorder {
  readonly changes: PolicyChange[] = [];
  private readonly waiting = new Set<{ match: (change: PolicyChange) => boolean; resolve: (change: PolicyChange) => void }>();
  private readonly unsubscribe: () => void;

  constructor(store: PolicyStore) {
    this.unsubscribe = store.onChange((change) => {
      this.changes.push(change);
      for (const waiter of [...this.waiting]) {
        if (waiter.match(change)) {
          this.waiting.delete(waiter);
          waiter.resolve(change);
        }
      }
    });
  }

  /** Resolves once a change of `policy` at `revision` or later has been reported (maybe already). */
  untilRevision(policy: string, revision: number): Promise<PolicyChange> {
    const match = (change: PolicyChange) => change.policy === policy && (change.revision ?? 0) >= revision;
    const seen = this.changes.find(match);
    if (seen) return Promise.resolve(seen);
    const waiter = { match, resolve: (_change: PolicyChange) => {} };
    const change = new Promise<PolicyChange>((resolve) => {
      waiter.resolve = resolve;
      this.waiting.add(waiter);
    });
    return within(change, () => `A change of '${policy}' at revision ${revision} or later (heard: ${JSON.stringify(this.changes)})`).finally(() => this.waiting.delete(waiter));
  }

  stop(): void {
    this.unsubscribe();
  }
}

/** `promise`, or a rejection naming `what` when it takes longer than a listener may. */
function within<T>(promise: Promise<T>, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what()} did not reach the listener within ${NOTIFICATION_WAIT_MS} ms`)), NOTIFICATION_WAIT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The error `promise` rejects with; fails the test when it resolves. */
async function refusal(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => {
      throw new Error(`Expected the store to refuse, but it answered ${JSON.stringify(value)}`);
    },
    (error: unknown) => error,
  );
}

function expectIncreasing(values: readonly number[]): void {
  values.slice(1).forEach((value, index) => expect(value).toBeGreaterThan(values[index]));
}

function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Lists of names are sets, so the contract does not pin their order: this sorts every list (also inside Maps and
 * records) so that two answers compare equal when they hold the same names. Duplicates stay, so they still fail.
 */
function unordered<T>(value: T): T {
  if (Array.isArray(value)) return value.map(unordered).sort((a, b) => byCodeUnits(JSON.stringify(a), JSON.stringify(b))) as T;
  if (value instanceof Map) return new Map([...value].map(([key, item]) => [key, unordered(item)])) as T;
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, unordered(item)])) as T;
  return value;
}
