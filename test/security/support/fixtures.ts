import { Controller, Get } from '@nestjs/common';
import { CurrentIdentity, Permissions, Public, Scopes, type AuthzIdentity } from 'nestjs-authz';

/** Routes for the attack suite: one public, one with no decorators at all, one with a scope, one with a permission. */
@Controller()
export class SecurityFixtureController {
  @Public()
  @Get('public')
  open() {
    return { ok: true };
  }

  /** Deliberately unannotated: AuthzGuard must still demand a valid token, and the route report must list it. */
  @Get('unannotated')
  unannotated(@CurrentIdentity() identity: AuthzIdentity) {
    return { subject: identity.subject };
  }

  @Scopes('admin')
  @Get('admin')
  admin() {
    return { ok: true };
  }

  @Scopes('notes:read')
  @Permissions('CanRead')
  @Get('notes')
  notes(@CurrentIdentity() identity: AuthzIdentity) {
    return { subject: identity.subject };
  }
}

export const securityPolicies = {
  note: {
    roles: { reader: ['CanRead'] },
    subjects: { susan: { roles: ['reader'] } },
  },
};
