import type { AuthzIdentity } from '../identity/identity';

/** What comes with one question besides policy, identity and permission. */
export interface DecisionOptions {
  /**
   * Fires when the asker stops waiting (the guard's `policyTimeoutMs`): stop the work, e.g. pass it to `fetch`, so
   * that calls to a slow backend do not pile up.
   */
  readonly signal?: AbortSignal;
  /**
   * Ask about one resource of the policy (e.g. a note's id): type-wide grants apply to every resource, and roles the
   * subject holds on this resource apply to it alone. Left out: type-wide grants only.
   */
  readonly resource?: string;
}

/**
 * Answers "given this policy, this identity and this permission: allowed?". The abstract class is its own
 * injection token: give your implementation to the module (`AuthzModule.forRoot({ ..., policyService: MyPolicyService })`,
 * so the guard and every module that injects PolicyService get it), and replace it in tests with
 * `overrideProvider(PolicyService)`. It is instantiated inside AuthzModule: with `forRoot` it can inject global
 * providers only; use `forRootAsync({ imports, ... })` to give it other modules' providers.
 *
 * Implementations may throw when they cannot decide (database down, remote server unreachable): the guard
 * then answers 503 and never allows. The guard passes an `AbortSignal` that fires at `policyTimeoutMs`.
 *
 * @example
 * \@Injectable()
 * export class RemotePolicyService extends PolicyService {
 *   async hasPermission(policy: string, identity: AuthzIdentity, permission: string, options?: DecisionOptions) {
 *     const body = JSON.stringify({ policy, subject: identity.subject, permission });
 *     const res = await fetch(`${base}/check`, { method: 'POST', body, signal: options?.signal });
 *     if (!res.ok) throw new Error(`policy server answered ${res.status}`);
 *     return (await res.json()).allowed === true;
 *   }
 * }
 */
export abstract class PolicyService {
  /**
   * Whether `identity` holds `permission` in `policy` (on `options.resource`, when given). A service that knows no
   * resource grants may ignore `options.resource`: it then answers from type-wide grants, which is never more than
   * the resource answer.
   *
   * @example
   * const mayEdit = await policies.hasPermission('note', identity, 'CanEdit', { resource: note.id });
   */
  abstract hasPermission(policy: string, identity: AuthzIdentity, permission: string, options?: DecisionOptions): Promise<boolean>;

  /**
   * A decision this service can give right now without I/O (from its cache), or `undefined` when it must be asked
   * through `hasPermission`. The guard tries it first so that a cached grant costs no turn of the event loop.
   * Optional: leave it out and every decision goes through `hasPermission`. `resource` as in {@link DecisionOptions}.
   */
  cachedDecision?(policy: string, identity: AuthzIdentity, permission: string, resource?: string): boolean | undefined;

  /**
   * The names of the policies this service knows. Optional: when given, the app refuses to start if a route's
   * `@Policy()` (or the module's `defaultPolicy`) names another one, as it does for the built-in service on the
   * `policies` option. If it throws (the backend is down at start), the check is skipped with a warning.
   *
   * @example
   * policyNames() { return ['note', 'billing']; }
   */
  policyNames?(): readonly string[] | Promise<readonly string[]>;

  /**
   * Which of `permissions` the identity holds in `policy`: the batch form for business code that filters
   * (e.g. show confidential notes only to holders of `CanReadConfidentialNotes`). Override it when your
   * backend can answer many permissions in one call.
   *
   * @example
   * const held = await policies.permissionsOf('note', identity, ['CanReadConfidentialNotes', 'CanModerate']);
   * if (held.has('CanModerate')) { ... }
   */
  async permissionsOf(policy: string, identity: AuthzIdentity, permissions: readonly string[], options?: DecisionOptions): Promise<ReadonlySet<string>> {
    const answers = await Promise.all(permissions.map((permission) => this.hasPermission(policy, identity, permission, options)));
    return new Set(permissions.filter((_, index) => answers[index] === true));
  }

  /**
   * Which of `resources` the identity holds `permission` on: the batch form for lists ("which of these notes may
   * susan read?"). The same answers as `hasPermission` with `{ resource }` for each; the built-in service reads
   * them in one store query. Override it when your backend answers many resources in one call.
   *
   * @example
   * const readable = await policies.allowedResources('note', identity, 'CanReadConfidentialNotes', notes.map((note) => note.id));
   * return notes.filter((note) => !note.confidential || readable.has(note.id));
   */
  async allowedResources(policy: string, identity: AuthzIdentity, permission: string, resources: readonly string[], options?: Omit<DecisionOptions, 'resource'>): Promise<ReadonlySet<string>> {
    const unique = [...new Set(resources)];
    const answers = await Promise.all(unique.map((resource) => this.hasPermission(policy, identity, permission, { ...options, resource })));
    return new Set(unique.filter((_, index) => answers[index] === true));
  }
}
