import { Controller, Delete, Get } from '@nestjs/common';
import { CurrentIdentity, Permissions, Policy, PolicyService, Public, Scopes, type AuthzIdentity } from 'nestjs-authz';
import { NotesService } from './notes.service';

@Policy('note')                       // where @Permissions are checked (else `defaultPolicy`)
@Scopes('notes:read')                 // every route here needs this scope
@Controller('notes')
export class NotesController {
  constructor(
    private readonly notes: NotesService,
    private readonly policies: PolicyService,
  ) {}

  @Permissions('CanRead')
  @Get()
  async list(@CurrentIdentity() identity: AuthzIdentity) {
    // Business filtering composed from the same policy:
    const held = await this.policies.permissionsOf('note', identity, ['CanReadConfidentialNotes']);
    return this.notes.list({ includeConfidential: held.has('CanReadConfidentialNotes') });
  }

  @Scopes.anyOf('notes:write', 'notes:admin')   // any one of these scopes
  @Permissions.anyOf('CanDelete', 'CanModerate') // any one of these permissions
  @Delete(':id') remove() {}
}

// @Public() and requirements on one route refuse to start, so a public route lives where no @Scopes applies:
@Public()
@Controller('health')
export class HealthController {
  @Get() health() { return { status: 'ok' }; }
}
