import { AuthzConfigurationError } from '../authz.exceptions';
import type { PolicyChange } from './policy-store';
import { InMemoryPolicyStore } from './in-memory-policy-store';

const note = { roles: { reader: ['CanRead'] }, subjects: { susan: { roles: ['reader'] } } };

describe('InMemoryPolicyStore', () => {
  describe('when created', () => {
    it('should serve the policies it was given, and nothing else', async () => {
      const store = new InMemoryPolicyStore({ note });
      expect((await store.getPolicy('note'))?.document).toMatchObject({ roles: { reader: ['CanRead'] } });
      expect(await store.getPolicy('admin')).toBeUndefined();
      expect(store.policyNames()).toEqual(['note']);
    });

    it('should not serve inherited object keys as policies', async () => {
      expect(await new InMemoryPolicyStore({ note }).getPolicy('constructor')).toBeUndefined();
    });

    it('should refuse invalid policy data', () => {
      expect(() => new InMemoryPolicyStore({ note: { subjects: { susan: { roles: ['reader'] } } } })).toThrow(AuthzConfigurationError);
    });
  });

  describe('when replace() is called', () => {
    it('should serve the new policies and tell listeners about every policy before or after', async () => {
      const store = new InMemoryPolicyStore({ note });
      const changed: (string | undefined)[] = [];
      store.onChange((change: PolicyChange) => changed.push(change.policy));
      store.replace({ admin: { roles: { analyst: ['ViewReports'] } } });
      expect(await store.getPolicy('note')).toBeUndefined();
      expect(await store.getPolicy('admin')).toBeDefined();
      expect(changed.sort()).toEqual(['admin', 'note']);
    });

    it('should change nothing and tell nobody when the new data is invalid', async () => {
      const store = new InMemoryPolicyStore({ note });
      const changed: (string | undefined)[] = [];
      store.onChange((change: PolicyChange) => changed.push(change.policy));
      expect(() => store.replace({ note: { roles: { reader: [''] } } })).toThrow(AuthzConfigurationError);
      expect((await store.getPolicy('note'))?.document).toMatchObject({ roles: { reader: ['CanRead'] } });
      expect(changed).toEqual([]);
    });

    it('should stop telling a listener that unsubscribed', () => {
      const store = new InMemoryPolicyStore({ note });
      const changed: (string | undefined)[] = [];
      const stop = store.onChange((change: PolicyChange) => changed.push(change.policy));
      stop();
      store.replace({ note });
      expect(changed).toEqual([]);
    });
  });
});
