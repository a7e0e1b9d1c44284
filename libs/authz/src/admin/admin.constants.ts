/**
 * The scope a token must carry to use the admin API: the user delegated policy administration to the client.
 *
 * @example
 * const token = issuer.sign({ sub: 'carol', scopes: [ADMIN_SCOPE] });
 */
export const ADMIN_SCOPE = 'authz:admin';

/**
 * The policy that says who may administer policies (the admin API checks its permissions there).
 *
 * @example
 * await store.edit([{ kind: 'grant-role', policy: ADMIN_POLICY, subject: 'dave', role: ADMIN_ROLE }], { actor: 'carol' });
 */
export const ADMIN_POLICY = 'authz';

/**
 * The permission of policy `authz` that every admin route requires.
 *
 * @example
 * AuthzModule.forRoot({ ...options, policies: { authz: { roles: { auditor: [ADMIN_PERMISSION] } } } });
 */
export const ADMIN_PERMISSION = 'CanAdminister';

/**
 * The role that the first start gives the `administrators` of {@link AuthzAdminModule.register}.
 *
 * @example
 * // policy 'authz' after the first start with administrators: ['carol']
 * { roles: { administrator: ['CanAdminister'] }, subjects: { carol: { roles: [ADMIN_ROLE] } } }
 */
export const ADMIN_ROLE = 'administrator';

/**
 * The actor of the audit entry written when the first start creates policy `authz`.
 *
 * @example
 * await store.audit({ policy: 'authz', limit: 1 }); // [{ actor: 'bootstrap', action: 'put-policy', ... }]
 */
export const BOOTSTRAP_ACTOR = 'bootstrap';

/**
 * Most items one list in a request may hold (permissions of a role, roles of an identity role, ...); more is a 400.
 *
 * @example
 * PUT /authz/policies/note/roles/reader { "permissions": [ ...1001 names ] } → 400, field "permissions"
 */
export const MAX_LIST_ITEMS = 1000;

/**
 * Audit entries per page unless `limit` says otherwise.
 *
 * @example
 * GET /authz/audit → at most 100 entries
 */
export const DEFAULT_AUDIT_LIMIT = 100;

/**
 * The most audit entries one page may hold.
 *
 * @example
 * GET /authz/audit?limit=1001 → 400, field "limit"
 */
export const MAX_AUDIT_LIMIT = 1000;

/**
 * Items per page of `GET /policies/:policy/subjects` and `GET /policies/:policy/subjects/:subject/resources` unless
 * `limit` says otherwise.
 *
 * @example
 * GET /authz/policies/note/subjects/susan/resources → at most 100 resources
 */
export const DEFAULT_PAGE_LIMIT = 100;

/**
 * The most items one page of `GET /policies/:policy/subjects` or `GET /policies/:policy/subjects/:subject/resources`
 * may hold.
 *
 * @example
 * GET /authz/policies/note/subjects/susan/resources?limit=1001 → 400, field "limit"
 */
export const MAX_PAGE_LIMIT = 1000;

/**
 * Seconds the admin API asks a client to wait when the policy store fails (503).
 *
 * @example
 * HTTP/1.1 503 Service Unavailable
 * Retry-After: 5
 */
export const STORE_RETRY_AFTER_SECONDS = 5;

/**
 * Injection token of the validated {@link AuthzAdminConfig}.
 *
 * @example
 * constructor(\@Inject(AUTHZ_ADMIN_CONFIG) private readonly config: AuthzAdminConfig) {}
 */
export const AUTHZ_ADMIN_CONFIG = Symbol('AUTHZ_ADMIN_CONFIG');
