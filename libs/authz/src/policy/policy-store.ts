import { validatePolicyDocuments, type PolicyDocument, type PolicyDocuments } from './policy-document';

/** Tells listeners that a policy's grants changed, so remembered decisions about it are dropped. */
export type PolicyChangeListener = (policy: string) => void;

/**
 * Where the default PolicyService reads grants. In memory today (from the module's `policies` option);
 * a database-backed store or a remote one implements the same two methods and calls its change listeners
 * whenever grants change, which is how decision caches stay correct across instances.
 */
export abstract class PolicyStore {
  /** The policy's data, or `undefined` if the store does not know it. */
  abstract getPolicy(policy: string): Promise<PolicyDocument | undefined>;

  /** Subscribes to changes; returns the unsubscribe function. */
  abstract onChange(listener: PolicyChangeListener): () => void;
}

/** Policies held in memory. `replace()` swaps them at run time and notifies listeners. */
export class InMemoryPolicyStore extends PolicyStore {
  private documents: PolicyDocuments;
  private readonly listeners = new Set<PolicyChangeListener>();

  constructor(documents: PolicyDocuments) {
    super();
    this.documents = validatePolicyDocuments(documents);
  }

  async getPolicy(policy: string): Promise<PolicyDocument | undefined> {
    return Object.hasOwn(this.documents, policy) ? this.documents[policy] : undefined;
  }

  /** Replaces every policy (validated first; an invalid set throws and changes nothing). */
  replace(documents: PolicyDocuments): void {
    const next = validatePolicyDocuments(documents);
    const changed = new Set([...Object.keys(this.documents), ...Object.keys(next)]);
    this.documents = next;
    for (const policy of changed) this.listeners.forEach((listener) => listener(policy));
  }

  /** Names of the policies held (the boot check uses it to catch typos in `@Policy()`). */
  policyNames(): string[] {
    return Object.keys(this.documents);
  }

  onChange(listener: PolicyChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
