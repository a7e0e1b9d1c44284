import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { AuthzIdentity } from '../identity/identity';

/**
 * Hands the handler the verified {@link AuthzIdentity} that AuthzGuard put on the request
 * (`undefined` on `@Public()` routes).
 *
 * @example
 * \@Post()
 * create(@CurrentIdentity() identity: AuthzIdentity, @Body() dto: CreateNoteDto) {
 *   return this.notes.create(identity.subject, dto);
 * }
 */
export const CurrentIdentity = createParamDecorator(
  (_data: unknown, context: ExecutionContext): AuthzIdentity | undefined => context.switchToHttp().getRequest<{ user?: AuthzIdentity }>().user,
);
