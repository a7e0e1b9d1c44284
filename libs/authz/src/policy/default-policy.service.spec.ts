import { Logger } from '@nestjs/common';
import { resolveAuthzConfig } from '../authz.config';
import { PolicyUnavailableException } from '../authz.exceptions';
import type { AuthzModuleOptions } from '../authz.options';
import type { AuthzIdentity } from '../identity/identity';
import { DefaultPolicyService, UnknownPolicyError } from './default-policy.service';
import type { PolicyDocument, PolicyDocuments } from './policy-document';
import { InMemoryPolicyStore } from '../store/in-memory-policy-store';
import type { DecisionGrants } from './grants';
import { PolicyService } from './policy.service';

const policies: PolicyDocuments = {
  note: {
    roles: { reader: ['CanRead'], writer: ['CanRead', 'CanWrite'], moderator: ['*'] },
    subjects: {
      susan: { roles: ['reader'], permissions: ['CanReadConfidentialNotes'] },
      alice: { roles: ['writer'] },
      dave: { permissions: ['CanDelete'] },
      root: { permissions: ['*'] },
    },
    identityRoles: { 'notes-admin': ['moderator'], 'notes-editor': ['writer'] },
  },
  admin: {
    roles: { analyst: ['ViewReports'] },
    subjects: { susan: { roles: ['analyst'] } },
  },
};

function identity(subject: string, roles: string[] = []): AuthzIdentity {
  return Object.freeze({ subject, issuer: 'https://idp.example.com/', audience: ['notes-api'], scopes: [], roles, claims: {} });
}

/** An in-memory store that counts reads and can hold a read open until the test releases it. */
class ObservedStore extends InMemoryPolicyStore {
  reads = 0;
  gate?: Promise<void>;

  override async grantsFor(policy: string, subject: string, identityRoles: readonly string[]): Promise<DecisionGrants | undefined> {
    this.reads++;
    // The grants are taken now; the answer arrives only when the gate opens (a slow database read).
    const grants = super.grantsFor(policy, subject, identityRoles);
    if (this.gate) await this.gate;
    return grants;
  }
}

function serviceWith(documents: PolicyDocuments = policies, options: Partial<AuthzModuleOptions> = {}) {
  const store = new ObservedStore(documents);
  const config = resolveAuthzConfig({ issuer: 'https://idp.example.com/', audience: 'notes-api', policies: documents, ...options });
  return { store, service: new DefaultPolicyService(store, config) };
}

describe('DefaultPolicyService', () => {
  describe('when resolving grants', () => {
    const { service } = serviceWith();

    it('should grant the permissions of a role the subject holds', async () => {
      expect(await service.hasPermission('note', identity('alice'), 'CanWrite')).toBe(true);
      expect(await service.hasPermission('note', identity('alice'), 'CanDelete')).toBe(false);
    });

    it('should combine subject roles and direct permissions', async () => {
      expect(await service.hasPermission('note', identity('susan'), 'CanRead')).toBe(true);
      expect(await service.hasPermission('note', identity('susan'), 'CanReadConfidentialNotes')).toBe(true);
      expect(await service.hasPermission('note', identity('susan'), 'CanWrite')).toBe(false);
    });

    it('should grant direct permissions without any role', async () => {
      expect(await service.hasPermission('note', identity('dave'), 'CanDelete')).toBe(true);
      expect(await service.hasPermission('note', identity('dave'), 'CanRead')).toBe(false);
    });

    it('should map identity roles from the token to policy roles', async () => {
      expect(await service.hasPermission('note', identity('carol', ['notes-editor']), 'CanWrite')).toBe(true);
      expect(await service.hasPermission('note', identity('carol', ['notes-editor']), 'CanDelete')).toBe(false);
    });

    it('should add identity-role grants to subject grants', async () => {
      expect(await service.hasPermission('note', identity('susan', ['notes-editor']), 'CanWrite')).toBe(true);
      expect(await service.hasPermission('note', identity('susan', ['notes-editor']), 'CanReadConfidentialNotes')).toBe(true);
    });

    it('should deny a subject the policy does not know', async () => {
      expect(await service.hasPermission('note', identity('bob'), 'CanRead')).toBe(false);
    });

    it('should deny an identity role the policy does not map', async () => {
      expect(await service.hasPermission('note', identity('bob', ['reader']), 'CanRead')).toBe(false);
    });

    it('should keep policies apart', async () => {
      expect(await service.hasPermission('admin', identity('susan'), 'ViewReports')).toBe(true);
      expect(await service.hasPermission('admin', identity('susan'), 'CanRead')).toBe(false);
      expect(await service.hasPermission('note', identity('susan'), 'ViewReports')).toBe(false);
    });

    it('should not read inherited object keys as subjects, roles or identity roles', async () => {
      expect(await service.hasPermission('note', identity('constructor', ['toString']), 'CanRead')).toBe(false);
    });
  });

  describe("when '*' is involved", () => {
    const { service } = serviceWith();

    it("should grant any permission of the policy through a role that holds '*'", async () => {
      expect(await service.hasPermission('note', identity('carol', ['notes-admin']), 'CanModerate')).toBe(true);
      expect(await service.hasPermission('note', identity('carol', ['notes-admin']), 'AnythingAtAll')).toBe(true);
    });

    it("should grant any permission through a direct '*' permission", async () => {
      expect(await service.hasPermission('note', identity('root'), 'CanDelete')).toBe(true);
    });

    it("should grant '*' in its own policy only", async () => {
      expect(await service.hasPermission('admin', identity('carol', ['notes-admin']), 'ViewReports')).toBe(false);
      expect(await service.hasPermission('admin', identity('root'), 'ViewReports')).toBe(false);
    });

    it("should refuse '*' as a subject or identity-role name, where it could be read as everyone", () => {
      expect(() => serviceWith({ note: { roles: { writer: ['CanWrite'] }, subjects: { '*': { roles: ['writer'] } } } })).toThrow(/`policies\.note\.subjects\.\*` must not contain '\*'/);
      expect(() => serviceWith({ note: { roles: { writer: ['CanWrite'] }, identityRoles: { '*': ['writer'] } } })).toThrow(/`policies\.note\.identityRoles\.\*` must not contain '\*'/);
    });

    it("should give an identity role '*' from the token no power beyond the policy's mapping of that literal name", async () => {
      const { service: unmapped } = serviceWith({ note: { roles: { reader: ['CanRead'] }, identityRoles: { 'notes-reader': ['reader'] } } });
      expect(await unmapped.hasPermission('note', identity('bob', ['*']), 'CanRead')).toBe(false);
    });

    it("should not grant '*' itself to a holder of ordinary permissions", async () => {
      expect(await service.hasPermission('note', identity('alice'), '*')).toBe(false);
    });
  });

  describe('when the policy is unknown', () => {
    it('should reject with a 503 PolicyUnavailableException, and log that the policy is not defined', async () => {
      const { service } = serviceWith();
      const logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
      try {
        await expect(service.hasPermission('nope', identity('susan'), 'CanRead')).rejects.toThrow(PolicyUnavailableException);
        await expect(service.permissionsOf('nope', identity('susan'), ['CanRead'])).rejects.toMatchObject({ status: 503 });
        expect(logged.mock.calls.map(([message]) => message)).toContain(new UnknownPolicyError('nope').message);
      } finally {
        logged.mockRestore();
      }
    });
  });

  describe('when the store fails or is slow', () => {
    it('should give business code a 503 PolicyUnavailableException instead of the store error, and log the cause', async () => {
      const { service, store } = serviceWith();
      jest.spyOn(store, 'grantsFor').mockRejectedValue(new Error('connection refused'));
      const logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
      try {
        await expect(service.permissionsOf('note', identity('susan'), ['CanRead'])).rejects.toBeInstanceOf(PolicyUnavailableException);
        await expect(service.hasPermission('note', identity('susan'), 'CanRead')).rejects.toMatchObject({ status: 503 });
        expect(logged.mock.calls.some(([message, stack]) => String(message).includes("policy 'note'") && String(stack).includes('connection refused'))).toBe(true);
      } finally {
        logged.mockRestore();
      }
    });

    it('should give up on a read slower than policyTimeoutMs with PolicyUnavailableException', async () => {
      const { service, store } = serviceWith(policies, { policyTimeoutMs: 20 });
      store.gate = new Promise<void>(() => undefined);
      const logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
      try {
        const started = performance.now();
        await expect(service.hasPermission('note', identity('susan'), 'CanRead')).rejects.toBeInstanceOf(PolicyUnavailableException);
        expect(performance.now() - started).toBeGreaterThanOrEqual(19);
        expect(String(logged.mock.calls[0]?.[1])).toContain('no answer within 20 ms');
      } finally {
        logged.mockRestore();
      }
    });
  });

  describe('when questions miss the cache at the same time', () => {
    it('should share one store read among concurrent misses for the same identity', async () => {
      const { service, store } = serviceWith();
      let release!: () => void;
      store.gate = new Promise<void>((resolve) => (release = resolve));
      const answers = Promise.all([
        service.hasPermission('note', identity('susan'), 'CanRead'),
        service.hasPermission('note', identity('susan'), 'CanReadConfidentialNotes'),
        service.permissionsOf('note', identity('susan'), ['CanWrite']),
      ]);
      release();
      expect(await answers).toEqual([true, true, new Set()]);
      expect(store.reads).toBe(1);
    });

    it('should not let a question asked after a change join a read that started before it', async () => {
      const { service, store } = serviceWith(policies, { decisionCache: { ttlMs: 3_600_000 } });
      let release!: () => void;
      store.gate = new Promise<void>((resolve) => (release = resolve));
      const before = service.hasPermission('note', identity('alice'), 'CanWrite');
      store.replace({ ...policies, note: { ...policies.note, subjects: {} } });
      store.gate = undefined;
      const after = service.hasPermission('note', identity('alice'), 'CanWrite');
      release();
      expect(await before).toBe(true);
      expect(await after).toBe(false);
      expect(store.reads).toBe(2);
    });
  });

  describe('when a subclass adds conditions', () => {
    class TrustedClientsOnly extends DefaultPolicyService {
      override async hasPermission(policy: string, who: AuthzIdentity, permission: string): Promise<boolean> {
        return who.clientId === 'trusted' && (await super.hasPermission(policy, who, permission));
      }
    }

    class NoConfidential extends DefaultPolicyService {
      override async grantedPermissions(policy: string, who: AuthzIdentity): Promise<ReadonlySet<string>> {
        const granted = new Set(await super.grantedPermissions(policy, who));
        granted.delete('CanReadConfidentialNotes');
        return granted;
      }
    }

    it('should apply an overridden hasPermission to permissionsOf (business-code filtering)', async () => {
      const { store } = serviceWith();
      const service = new TrustedClientsOnly(store, resolveAuthzConfig({ issuer: 'https://idp.example.com/', audience: 'notes-api', policies }));
      expect([...(await service.permissionsOf('note', identity('susan'), ['CanRead', 'CanReadConfidentialNotes']))]).toEqual([]);
      expect([...(await service.permissionsOf('note', { ...identity('susan'), clientId: 'trusted' }, ['CanRead']))]).toEqual(['CanRead']);
    });

    it('should give no cached decision when grantedPermissions is overridden, and apply it on every path', async () => {
      const { store } = serviceWith();
      const service = new NoConfidential(store, resolveAuthzConfig({ issuer: 'https://idp.example.com/', audience: 'notes-api', policies }));
      expect(await service.hasPermission('note', identity('susan'), 'CanReadConfidentialNotes')).toBe(false);
      expect(service.cachedDecision('note', identity('susan'), 'CanReadConfidentialNotes')).toBeUndefined();
      expect(service.cachedDecision('note', identity('susan'), 'CanRead')).toBeUndefined();
      expect([...(await service.permissionsOf('note', identity('susan'), ['CanRead', 'CanReadConfidentialNotes']))]).toEqual(['CanRead']);
    });
  });

  describe('when asked for several permissions at once (permissionsOf)', () => {
    const { service } = serviceWith();

    it('should return the subset the identity holds', async () => {
      const held = await service.permissionsOf('note', identity('susan'), ['CanRead', 'CanReadConfidentialNotes', 'CanModerate']);
      expect([...held].sort()).toEqual(['CanRead', 'CanReadConfidentialNotes']);
    });

    it("should return every asked permission for a '*' holder, and only those", async () => {
      const held = await service.permissionsOf('note', identity('carol', ['notes-admin']), ['CanModerate', 'CanDelete']);
      expect([...held].sort()).toEqual(['CanDelete', 'CanModerate']);
    });

    it('should return an empty set for someone without grants', async () => {
      expect((await service.permissionsOf('note', identity('bob'), ['CanRead'])).size).toBe(0);
    });

    it('should list every permission held, including the wildcard, through grantedPermissions', async () => {
      expect([...(await service.grantedPermissions('note', identity('alice')))].sort()).toEqual(['CanRead', 'CanWrite']);
      expect([...(await service.grantedPermissions('note', identity('root')))]).toEqual(['*']);
    });
  });

  describe('when decisions are cached', () => {
    afterEach(() => jest.useRealTimers());

    it('should answer a repeated question within the TTL without reading the store', async () => {
      const { service, store } = serviceWith(policies, { decisionCache: { ttlMs: 60_000 } });
      await service.hasPermission('note', identity('susan'), 'CanRead');
      await service.hasPermission('note', identity('susan'), 'CanReadConfidentialNotes');
      await service.permissionsOf('note', identity('susan'), ['CanWrite']);
      expect(store.reads).toBe(1);
    });

    it('should read the store again once the TTL has passed', async () => {
      // DefaultPolicyService takes no clock, so the test moves Date (timers stay real; nothing waits).
      jest.useFakeTimers({ now: 1_000_000, doNotFake: ['nextTick', 'setImmediate', 'clearImmediate', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'queueMicrotask', 'hrtime', 'performance'] });
      const { service, store } = serviceWith(policies, { decisionCache: { ttlMs: 5_000 } });
      await service.hasPermission('note', identity('susan'), 'CanRead');
      jest.setSystemTime(1_000_000 + 4_999);
      await service.hasPermission('note', identity('susan'), 'CanRead');
      expect(store.reads).toBe(1);
      jest.setSystemTime(1_000_000 + 5_000);
      await service.hasPermission('note', identity('susan'), 'CanRead');
      expect(store.reads).toBe(2);
    });

    it('should keep answers for different identity roles of one subject apart', async () => {
      const { service } = serviceWith();
      expect(await service.hasPermission('note', identity('bob'), 'CanModerate')).toBe(false);
      expect(await service.hasPermission('note', identity('bob', ['notes-admin']), 'CanModerate')).toBe(true);
      expect(await service.hasPermission('note', identity('bob'), 'CanModerate')).toBe(false);
    });

    it('should keep subjects and roles apart whatever characters they contain', async () => {
      const { service } = serviceWith();
      expect(await service.hasPermission('note', identity('bob', ['notes-admin']), 'CanModerate')).toBe(true);
      expect(await service.hasPermission('note', identity('bob\0notes-admin'), 'CanModerate')).toBe(false);
      expect(await service.hasPermission('note', identity('bob', ['a\0notes-admin']), 'CanModerate')).toBe(false);
    });

    it('should give cached decisions synchronously, and none before the first question or after a change', async () => {
      const { service, store } = serviceWith();
      expect(service.cachedDecision('note', identity('susan'), 'CanRead')).toBeUndefined();
      await service.hasPermission('note', identity('susan'), 'CanRead');
      expect(service.cachedDecision('note', identity('susan'), 'CanRead')).toBe(true);
      expect(service.cachedDecision('note', identity('susan'), 'CanDelete')).toBe(false);
      store.replace({ note: { roles: {} } });
      expect(service.cachedDecision('note', identity('susan'), 'CanRead')).toBeUndefined();
    });

    it('should decide a new identity synchronously from an in-memory store, and see a change at once', () => {
      const store = new InMemoryPolicyStore(policies);
      const service = new DefaultPolicyService(store, resolveAuthzConfig({ issuer: 'https://idp.example.com/', audience: 'notes-api', policies }));
      expect(service.cachedDecision('note', identity('susan'), 'CanRead')).toBe(true);
      expect(service.cachedDecision('note', identity('nobody'), 'CanRead')).toBe(false);
      expect(service.rememberedCount).toBe(2);
      store.replace({ note: { roles: {} } });
      expect(service.cachedDecision('note', identity('susan'), 'CanRead')).toBe(false);
      // An unknown policy is left to hasPermission, which reports it (503).
      expect(service.cachedDecision('nope', identity('susan'), 'CanRead')).toBeUndefined();
    });

    it('should give no cached decision when a subclass overrides hasPermission with conditions of its own', async () => {
      const { store } = serviceWith();
      const config = resolveAuthzConfig({ issuer: 'https://idp.example.com/', audience: 'notes-api', policies });
      class TrustedClientsOnly extends DefaultPolicyService {
        override async hasPermission(policy: string, who: AuthzIdentity, permission: string): Promise<boolean> {
          return who.clientId === 'trusted' && (await super.hasPermission(policy, who, permission));
        }
      }
      const service = new TrustedClientsOnly(store, config);
      const viaTrusted = { ...identity('susan'), clientId: 'trusted' };
      expect(await service.hasPermission('note', viaTrusted, 'CanRead')).toBe(true);
      expect(service.cachedDecision('note', viaTrusted, 'CanRead')).toBeUndefined();
    });

    it('should read the store on every question when the cache is off', async () => {
      const { service, store } = serviceWith(policies, { decisionCache: false });
      await service.hasPermission('note', identity('susan'), 'CanRead');
      await service.hasPermission('note', identity('susan'), 'CanRead');
      expect(store.reads).toBe(2);
    });

    it('should deny a revoked grant on the very next call after InMemoryPolicyStore.replace()', async () => {
      const { service, store } = serviceWith(policies, { decisionCache: { ttlMs: 3_600_000 } });
      expect(await service.hasPermission('note', identity('alice'), 'CanWrite')).toBe(true);
      store.replace({ ...policies, note: { ...policies.note, subjects: { alice: { roles: ['reader'] } } } });
      expect(await service.hasPermission('note', identity('alice'), 'CanWrite')).toBe(false);
      expect(await service.hasPermission('note', identity('alice'), 'CanRead')).toBe(true);
    });

    it('should allow a new grant on the very next call after replace()', async () => {
      const { service, store } = serviceWith(policies, { decisionCache: { ttlMs: 3_600_000 } });
      expect(await service.hasPermission('note', identity('bob'), 'CanRead')).toBe(false);
      store.replace({ ...policies, note: { ...policies.note, subjects: { bob: { roles: ['reader'] } } } });
      expect(await service.hasPermission('note', identity('bob'), 'CanRead')).toBe(true);
    });

    it('should drop only the invalidated policy', async () => {
      const { service, store } = serviceWith();
      await service.hasPermission('note', identity('susan'), 'CanRead');
      await service.hasPermission('admin', identity('susan'), 'ViewReports');
      service.invalidate({ policy: 'admin' });
      await service.hasPermission('note', identity('susan'), 'CanRead');
      expect(store.reads).toBe(2);
      await service.hasPermission('admin', identity('susan'), 'ViewReports');
      expect(store.reads).toBe(3);
    });

    it('should not cache a lookup that was under way when the store changed', async () => {
      const { service, store } = serviceWith(policies, { decisionCache: { ttlMs: 3_600_000 } });
      let release!: () => void;
      store.gate = new Promise<void>((resolve) => (release = resolve));
      // Starts before the revocation and reads the old grants.
      const inFlight = service.hasPermission('note', identity('alice'), 'CanWrite');
      store.replace({ ...policies, note: { ...policies.note, subjects: {} } });
      store.gate = undefined;
      release();
      expect(await inFlight).toBe(true);
      // The old answer must not have been stored after the invalidation.
      expect(await service.hasPermission('note', identity('alice'), 'CanWrite')).toBe(false);
    });

    it('should stop listening to the store when the module is destroyed', async () => {
      const { service, store } = serviceWith();
      const invalidate = jest.spyOn(service, 'invalidate');
      service.onModuleDestroy();
      store.replace(policies);
      expect(invalidate).not.toHaveBeenCalled();
    });
  });
});

describe('PolicyService.permissionsOf (the base batch form)', () => {
  class OnlyCanRead extends PolicyService {
    asked: string[] = [];
    async hasPermission(_policy: string, _identity: AuthzIdentity, permission: string): Promise<boolean> {
      this.asked.push(permission);
      return permission === 'CanRead';
    }
  }

  describe('when a custom service implements only hasPermission', () => {
    it('should ask hasPermission for each permission and return those granted', async () => {
      const service = new OnlyCanRead();
      const held = await service.permissionsOf('note', identity('susan'), ['CanRead', 'CanWrite']);
      expect([...held]).toEqual(['CanRead']);
      expect(service.asked).toEqual(['CanRead', 'CanWrite']);
    });

    it('should count only a literal true as held, as the guard does', async () => {
      class Sloppy extends PolicyService {
        async hasPermission(_policy: string, _identity: AuthzIdentity, permission: string): Promise<boolean> {
          return (permission === 'CanRead' ? true : 'yes') as boolean;
        }
      }
      const held = await new Sloppy().permissionsOf('note', identity('susan'), ['CanRead', 'CanWrite']);
      expect([...held]).toEqual(['CanRead']);
    });
  });
});
