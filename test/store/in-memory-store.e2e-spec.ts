import { InMemoryPolicyStore } from 'nestjs-authz';
import { describePolicyStoreContract } from './support/store-contract';

// What only the in-memory store does (the `policies` option, replace(), policyNames()) is in its unit spec,
// libs/authz/src/store/in-memory-policy-store.spec.ts.
describePolicyStoreContract('InMemoryPolicyStore', async () => ({ store: new InMemoryPolicyStore(), dispose: async () => {} }));
