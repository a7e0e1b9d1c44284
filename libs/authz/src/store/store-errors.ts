/**
 * Why a policy store refused a write or a read. The admin API answers each with its own status (404, 409); any
 * other error from a store is a fault of the store (database down) and becomes 503.
 */
export abstract class PolicyStoreError extends Error {
  override readonly name = this.constructor.name;
}

/** The policy does not exist (404). */
export class PolicyNotFoundError extends PolicyStoreError {
  constructor(readonly policy: string) {
    super(`Policy '${policy}' does not exist`);
  }
}

/** The role is not defined in the policy (404). */
export class RoleNotFoundError extends PolicyStoreError {
  constructor(
    readonly policy: string,
    readonly role: string,
  ) {
    super(`Role '${role}' is not defined in policy '${policy}'`);
  }
}

/** The policy changed since the revision the writer read (409): re-read it and try again. */
export class RevisionConflictError extends PolicyStoreError {
  constructor(
    readonly policy: string,
    readonly expected: number,
    readonly actual: number,
  ) {
    super(
      expected === 0
        ? `Policy '${policy}' already exists (revision ${actual})`
        : actual === 0
          ? `Policy '${policy}' does not exist, but revision ${expected} was expected`
          : `Policy '${policy}' is at revision ${actual}, not ${expected}: it changed since it was read; read it again and retry`,
    );
  }
}

/** The role is still held by subjects (type-wide or on a resource) or given by identity roles, so it cannot be deleted (409). */
export class RoleInUseError extends PolicyStoreError {
  constructor(
    readonly policy: string,
    readonly role: string,
  ) {
    super(`Role '${role}' of policy '${policy}' is still held by subjects (type-wide or on resources) or given by identity roles; revoke it first`);
  }
}
