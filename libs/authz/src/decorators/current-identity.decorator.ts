import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { requestOf } from '../context/transports';
import type { AuthzIdentity } from '../identity/identity';

/** `@CurrentIdentity()` and `@CurrentIdentity(key)`: the only two ways it can be called. */
export interface CurrentIdentityDecorator {
  /** The whole verified {@link AuthzIdentity} (`undefined` on `@Public()` routes). */
  (): ParameterDecorator;
  /** One field of the verified identity, e.g. `'subject'` (`undefined` on `@Public()` routes). */
  <K extends keyof AuthzIdentity>(key: K): ParameterDecorator;
}

/**
 * Hands the handler the verified {@link AuthzIdentity} that AuthzGuard put on the request, or one field of it
 * when given its name (`undefined` on `@Public()` routes). The name must be a field of AuthzIdentity: anything else
 * is a type error. Type the parameter as that field, e.g. `AuthzIdentity['subject']`.
 *
 * @example
 * \@Post()
 * create(@CurrentIdentity() identity: AuthzIdentity, @Body() dto: CreateNoteDto) {
 *   return this.notes.create(identity.subject, dto);
 * }
 *
 * \@Get('mine')
 * mine(@CurrentIdentity('subject') subject: AuthzIdentity['subject']) {
 *   return this.notes.ownedBy(subject);
 * }
 */
export const CurrentIdentity: CurrentIdentityDecorator = createParamDecorator((key: keyof AuthzIdentity | undefined, context: ExecutionContext): unknown => {
  const identity = requestOf(context)?.user;
  return key === undefined ? identity : identity?.[key];
});
