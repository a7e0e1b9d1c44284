import { SetMetadata } from '@nestjs/common';
import { PUBLIC_KEY } from '../authz.constants';

/**
 * Opts a route (or every route of a controller) out of AuthzGuard: no token is read or checked. Combining it
 * with `@Scopes()` or `@Permissions()` on the same route stops the app at start, since one of them must be a mistake.
 *
 * @example
 * \@Public()
 * \@Get('health')
 * health() { return { status: 'ok' }; }
 */
export const Public = (): ClassDecorator & MethodDecorator => SetMetadata(PUBLIC_KEY, true);
