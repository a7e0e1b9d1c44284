import { Test } from '@nestjs/testing';
import { AUTHZ_CONFIG, AuthzModule, checkPolicyDocument, InMemoryPolicyStore, KeySet, type AuthzConfig, type AuthzIdentity, type AuthzModuleOptions, type DecisionGrants, type JwtAlgorithm, type PolicyChange, type PolicyChangeListener, type PolicyDocument, type PolicyDocuments } from 'nestjs-authz';
import type { KeyObject } from 'node:crypto';

/** A clock the test moves by hand; hand `clock.now` to KeySet and TokenVerifier. */
export class ManualClock {
  constructor(public time = Date.now()) {}

  readonly now = (): number => this.time;

  advance(ms: number): void {
    this.time += ms;
  }
}

/** The validated configuration the module would build from `options` (through the public module, not internals). */
export async function configFor(options: AuthzModuleOptions): Promise<AuthzConfig> {
  const moduleRef = await Test.createTestingModule({ imports: [AuthzModule.forRoot(options)] }).compile();
  const config = moduleRef.get<AuthzConfig>(AUTHZ_CONFIG);
  await moduleRef.close();
  return config;
}

/**
 * The real key set, counting how often the verifier gets a key from it. TokenVerifier asks only when it checks a
 * signature, once per check (`knownKeyFor`, or `keyFor` when the key is not at hand), so the count is the number
 * of fresh verifications (a remembered token does not ask).
 */
export class CountingKeySet extends KeySet {
  keyRequests = 0;

  override knownKeyFor(kid: string | undefined, alg: JwtAlgorithm): KeyObject | undefined {
    const key = super.knownKeyFor(kid, alg);
    if (key) this.keyRequests++;
    return key;
  }

  override keyFor(kid: string | undefined, alg: JwtAlgorithm): Promise<KeyObject> {
    this.keyRequests++;
    return super.keyFor(kid, alg);
  }
}

/**
 * A policy store whose data the test can change without telling anyone, as a store that missed a notification
 * would; `notify()` calls the listeners like a store that does tell, and `feedDown` plays a change feed that is
 * down. Counts reads.
 */
export class ObservablePolicyStore extends InMemoryPolicyStore {
  reads = 0;
  /** When set, reads wait for this promise before answering (a slow database). */
  gate?: Promise<void>;
  /** What feedDownSince() answers. */
  feedDown?: number;
  private readonly listeners = new Set<PolicyChangeListener>();

  constructor(public documents: PolicyDocuments) {
    super();
  }

  override async grantsFor(policy: string, subject: string, identityRoles: readonly string[]): Promise<DecisionGrants | undefined> {
    this.reads++;
    // The data is taken now; the answer arrives only when the gate opens (a slow database read).
    const document = Object.hasOwn(this.documents, policy) ? checkPolicyDocument(this.documents[policy]) : undefined;
    if (this.gate) await this.gate;
    return document && grantsOf(document, subject, identityRoles);
  }

  override onChange(listener: PolicyChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  override feedDownSince(): number | undefined {
    return this.feedDown;
  }

  notify(change: PolicyChange): void {
    this.listeners.forEach((listener) => listener(change));
  }
}

/** The grants of one decision, computed from a whole document through a throwaway in-memory store. */
function grantsOf(document: PolicyDocument, subject: string, identityRoles: readonly string[]): Promise<DecisionGrants | undefined> {
  return new InMemoryPolicyStore({ policy: document }).grantsFor('policy', subject, identityRoles);
}

/** An identity as the guard would hand it to the PolicyService. */
export function identity(subject: string, roles: string[] = []): AuthzIdentity {
  return Object.freeze({ subject, issuer: 'https://issuer.test/', audience: ['notes-api'], clientId: 'notes-cli', scopes: ['notes:read'], roles, claims: {} });
}

/**
 * Changes the last character of a base64url RS256 signature (2048 bits = 341⅓ characters) in its four unused
 * low bits: other token bytes, the same decoded signature.
 */
export function reencodeSignature(token: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const last = alphabet.indexOf(token[token.length - 1]);
  return token.slice(0, -1) + alphabet[last ^ 0b0001];
}

/** The same token with the payload re-serialized (same claims, other bytes) and the original signature kept. */
export function reformatPayload(token: string): string {
  const [header, payload, signature] = token.split('.');
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  return `${header}.${Buffer.from(JSON.stringify(claims, null, 1)).toString('base64url')}.${signature}`;
}

/** The same token with one significant signature byte changed. */
export function corruptSignature(token: string): string {
  const cut = token.lastIndexOf('.') + 8;
  return token.slice(0, cut) + (token[cut] === 'A' ? 'B' : 'A') + token.slice(cut + 1);
}
