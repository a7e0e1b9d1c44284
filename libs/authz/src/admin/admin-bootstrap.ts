import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { PolicyStore } from '../store/policy-store';
import { RevisionConflictError } from '../store/store-errors';
import { ADMIN_PERMISSION, ADMIN_POLICY, ADMIN_ROLE, AUTHZ_ADMIN_CONFIG, BOOTSTRAP_ACTOR } from './admin.constants';
import type { AuthzAdminConfig } from './authz-admin.options';

/**
 * Creates policy `authz` with the configured `administrators` on the very first start, so that someone can use
 * the admin API at all: `{ roles: { administrator: ['CanAdminister'] }, subjects: { <each>: { roles: ['administrator'] } } }`,
 * audited with the actor `bootstrap`.
 *
 * Once only, whatever the number of instances: the write is conditional on the policy not existing
 * (`ifRevision: 0`), so when three instances start together on one database, one creates it and the other two get a
 * RevisionConflictError, which means "it exists" and is left alone. Later starts, with the same or other
 * administrators, never change the policy: from then on it is managed through the API (or the store) like any other.
 *
 * Runs in `onModuleInit`, before AuthzModule's start-up check (in `onApplicationBootstrap`) looks for policy
 * `authz` in an in-memory store.
 *
 * @example
 * AuthzAdminModule.register({ administrators: ['carol'] }) // first start: policy 'authz' created, carol administers
 */
@Injectable()
export class AdminBootstrap implements OnModuleInit {
  private readonly logger = new Logger('AuthzAdmin');

  constructor(
    private readonly store: PolicyStore,
    @Inject(AUTHZ_ADMIN_CONFIG) private readonly config: AuthzAdminConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    const { administrators } = this.config;
    if (administrators.length === 0) return;
    const subjects = Object.fromEntries(administrators.map((subject) => [subject, { roles: [ADMIN_ROLE] }]));
    try {
      await this.store.edit([{ kind: 'put-policy', policy: ADMIN_POLICY, document: { roles: { [ADMIN_ROLE]: [ADMIN_PERMISSION] }, subjects }, ifRevision: 0 }], { actor: BOOTSTRAP_ACTOR });
      this.logger.log(`Created policy '${ADMIN_POLICY}' with the administrators ${administrators.join(', ')}`);
    } catch (error) {
      if (!(error instanceof RevisionConflictError)) throw error;
      // It exists (an earlier start, or another instance just now): it is managed through the API from now on.
    }
  }
}
