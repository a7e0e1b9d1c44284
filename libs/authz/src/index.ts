export { AuthzModule } from './authz.module';
export type { AuthzModuleExtras } from './authz.module-definition';
export type { AuthzModuleOptions, JsonWebKeySet } from './authz.options';
export type { IssuerOptions, IssuerResolver, IssuerResolverOptions } from './authz.options';
export type { AuthzConfig } from './authz.config';
export type { IssuerConfig, IssuersConfig } from './authz.config';
export { AUTHZ_CONFIG } from './authz.tokens';
export { SUPPORTED_ALGORITHMS, type JwtAlgorithm } from './authz.constants';
export {
  AuthzConfigurationError,
  AuthzException,
  InsufficientScopeException,
  InvalidRequestException,
  InvalidTokenException,
  KeySetUnavailableException,
  MissingCredentialsException,
  PermissionDeniedException,
  PolicyUnavailableException,
  UnsupportedContextException,
  type BearerErrorCode,
} from './authz.exceptions';

export { Public } from './decorators/public.decorator';
export { Scopes } from './decorators/scopes.decorator';
export { Permissions } from './decorators/permissions.decorator';
export { Policy } from './decorators/policy.decorator';
export { Resource, type ResourceResolver } from './decorators/resource.decorator';
export { CurrentIdentity } from './decorators/current-identity.decorator';
export type { RequirementGroup } from './decorators/requirement';

export { AuthzGuard } from './guards/authz.guard';
export type { RouteRequirements } from './guards/route-requirements';

export type { AuthzIdentity } from './identity/identity';
export { ClaimPresets, type ClaimMapping, type ClaimPath, type ClaimPresetName } from './identity/claim-mapping';

export { KeySet } from './jwt/key-set';
export { TokenVerifier } from './jwt/token-verifier';
export { IssuerRegistry } from './jwt/issuer-registry';
export type { VerifiedClaims } from './jwt/verified-claims';

export { PolicyService, type DecisionOptions } from './policy/policy.service';
export { DefaultPolicyService, UnknownPolicyError } from './policy/default-policy.service';
export { ALL_PERMISSIONS, MAX_NAME_LENGTH, nameProblem, type NameKind } from './policy/names';
export { checkPolicyDocument, InvalidPolicyError, type PolicyDocument, type PolicyDocuments, type SubjectGrants } from './policy/policy-document';
export { explainPermission, type DecisionGrants, type GrantPath } from './policy/grants';

export {
  PolicyStore,
  type PolicyChange,
  type PolicyChangeListener,
  type PolicySummary,
  type ResourceGrants,
  type ResourcePage,
  type StoredPolicy,
  type SubjectResource,
} from './store/policy-store';
export { InMemoryPolicyStore } from './store/in-memory-policy-store';
export type { AuditEntry, AuditQuery, EditOptions, EditResult, EditState, EditTarget, PolicyEdit } from './store/policy-edit';
export { PolicyNotFoundError, PolicyStoreError, RevisionConflictError, RoleInUseError, RoleNotFoundError } from './store/store-errors';


// store: PostgreSQL and PGlite
export { PostgresPolicyStore, type PostgresPolicyStoreOptions } from './store/postgres/postgres-policy-store';
export { PgDriver, LISTENER_APPLICATION_NAME } from './store/postgres/pg-driver';
export { PgliteDriver } from './store/postgres/pglite-driver';
export type { Listening, SqlDriver, SqlExecutor } from './store/postgres/sql-driver';

// provisioning
export {
  applyPolicyPlan,
  createMissingPolicies,
  describePlan,
  diffPolicies,
  exportPolicies,
  planCounts,
  planPolicies,
  POLICY_FILE_EXTENSIONS,
  PolicyFileError,
  policyFileText,
  readPolicyFiles,
  type ApplyResult,
  type ListChange,
  type NamedPolicy,
  type PolicyDiff,
  type PolicyFile,
  type PolicyPlan,
  type PolicyPlanEntry,
  type SubjectChange,
} from './store/provisioning';
export { rememberHandshake, type HandshakeRequest, type WsRefusal, type WsRefusalCode } from './context/ws-handshake';

// transports: GraphQL subscriptions over graphql-ws (the guard maps GraphQL calls itself)
export { authorizationOf, GRAPHQL_WS_UNAUTHORIZED, graphqlRefusal, graphqlWsOnConnect, type GraphqlWsConnection } from './context/graphql-call';
