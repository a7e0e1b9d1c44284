import { AuthzConfigurationError } from '../authz.exceptions';
import type { PolicyChange } from './policy-store';
import { InMemoryPolicyStore } from './in-memory-policy-store';

/**
 * What only the in-memory store does: policies given to the constructor (the module's `policies` option),
 * replace() and policyNames(). The behaviour every store shares is the contract suite,
 * test/store/in-memory-store.e2e-spec.ts.
 */
const note = { roles: { reader: ['CanRead'] }, subjects: { susan: { roles: ['reader'] } } };

function listen(store: InMemoryPolicyStore): PolicyChange[] {
  const changes: PolicyChange[] = [];
  store.onChange((change) => changes.push(change));
  return changes;
}

describe('InMemoryPolicyStore', () => {
  describe('when created', () => {
    it('should serve the policies it was given, and nothing else', async () => {
      const store = new InMemoryPolicyStore({ note });
      expect((await store.getPolicy('note'))?.document).toMatchObject({ roles: { reader: ['CanRead'] } });
      expect(await store.getPolicy('admin')).toBeUndefined();
      expect(store.policyNames()).toEqual(['note']);
    });

    it('should start empty when given nothing', async () => {
      const store = new InMemoryPolicyStore();
      expect(store.policyNames()).toEqual([]);
      expect(await store.listPolicies()).toEqual([]);
    });

    it('should serve the policies normalised, at a revision above 0, without audit entries', async () => {
      const store = new InMemoryPolicyStore({ note: { roles: { reader: ['CanRead', 'CanRead'] }, subjects: { susan: { roles: ['reader'] }, tom: {} } } });
      const stored = await store.getPolicy('note');
      expect(stored?.document).toEqual({ roles: { reader: ['CanRead'] }, subjects: { susan: { roles: ['reader'], permissions: [] } }, identityRoles: {} });
      expect(stored?.revision).toBeGreaterThan(0);
      expect(await store.grantsFor('note', 'susan', [])).toMatchObject({ revision: stored?.revision, subjectRoles: ['reader'] });
      expect(await store.audit({ limit: 10 })).toEqual([]);
    });

    it('should not serve inherited object keys as policies', async () => {
      const store = new InMemoryPolicyStore({ note });
      expect(await store.getPolicy('constructor')).toBeUndefined();
      expect(await store.grantsFor('toString', 'susan', [])).toBeUndefined();
    });

    it('should refuse invalid policy data, naming the field at fault', () => {
      expect(() => new InMemoryPolicyStore({ note: { subjects: { susan: { roles: ['reader'] } } } })).toThrow(AuthzConfigurationError);
      expect(() => new InMemoryPolicyStore({ note: { subjects: { susan: { roles: ['reader'] } } } })).toThrow('policies.note.subjects.susan.roles[0]');
      expect(() => new InMemoryPolicyStore({ '*': note })).toThrow('policies.*');
      expect(() => new InMemoryPolicyStore([] as never)).toThrow(AuthzConfigurationError);
    });
  });

  describe('when replace() is called', () => {
    it('should serve the new policies and tell listeners about every policy before or after', async () => {
      const store = new InMemoryPolicyStore({ note });
      const changes = listen(store);
      store.replace({ admin: { roles: { analyst: ['ViewReports'] } } });
      expect(await store.getPolicy('note')).toBeUndefined();
      expect(await store.getPolicy('admin')).toBeDefined();
      expect(store.policyNames()).toEqual(['admin']);
      expect(changes.map((change) => change.policy).sort()).toEqual(['admin', 'note']);
    });

    it('should give every policy a revision above any before, tell it to listeners, and write no audit entry', async () => {
      const store = new InMemoryPolicyStore({ note });
      const edited = await store.edit([{ kind: 'grant-role', policy: 'note', subject: 'tom', role: 'reader' }], { actor: 'test' });
      const changes = listen(store);
      store.replace({ note, admin: {} });
      const listed = await store.listPolicies();
      expect(listed.map((summary) => summary.name)).toEqual(['admin', 'note']);
      const [revision] = new Set(listed.map((summary) => summary.revision));
      expect(listed.every((summary) => summary.revision === revision)).toBe(true);
      expect(revision).toBeGreaterThan(edited.revision);
      expect(changes.every((change) => change.revision === revision && change.subject === undefined)).toBe(true);
      expect((await store.audit({ limit: 10 })).map((entry) => entry.action)).toEqual(['grant-role']);
    });

    it('should keep revisions growing for edits after it', async () => {
      const store = new InMemoryPolicyStore({ note });
      store.replace({ note });
      const before = (await store.getPolicy('note'))!.revision;
      const edited = await store.edit([{ kind: 'grant-role', policy: 'note', subject: 'tom', role: 'reader' }], { actor: 'test' });
      expect(edited.revision).toBeGreaterThan(before);
      expect((await store.getPolicy('note'))?.revision).toBe(edited.revision);
    });

    it('should change nothing and tell nobody when the new data is invalid', async () => {
      const store = new InMemoryPolicyStore({ note });
      const before = await store.getPolicy('note');
      const changes = listen(store);
      expect(() => store.replace({ note: { roles: { reader: [''] } } })).toThrow(AuthzConfigurationError);
      expect(await store.getPolicy('note')).toEqual(before);
      expect(store.policyNames()).toEqual(['note']);
      expect(changes).toEqual([]);
    });

    it('should stop telling a listener that unsubscribed', () => {
      const store = new InMemoryPolicyStore({ note });
      const changes: PolicyChange[] = [];
      const stop = store.onChange((change) => changes.push(change));
      stop();
      store.replace({ note });
      expect(changes).toEqual([]);
    });
  });
});
