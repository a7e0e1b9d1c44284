import { SetMetadata, type ExecutionContext } from '@nestjs/common';
import { RESOURCE_KEY } from '../authz.constants';
import { AuthzConfigurationError } from '../authz.exceptions';

/**
 * Reads the resource a request is about, before the handler runs (and before pipes: validate the value in the
 * handler as usual). Return `undefined` when the request names none: the route's permissions are then decided on
 * type-wide grants alone, which never allow more than a resource's.
 */
export type ResourceResolver = (request: any, context: ExecutionContext) => string | undefined;

/**
 * Makes the route's `@Permissions()` a question about one resource of its policy: type-wide grants (e.g. moderator)
 * apply to every resource, and roles the subject holds on this resource (e.g. owner of this note) apply too.
 * Give the name of the route parameter that holds the resource's id, or a function that reads it from the request.
 * On a handler it wins over the class.
 *
 * A value that is not a valid name (empty, over 255 characters, control characters) counts as no resource.
 *
 * @example
 * \@Patch(':id')
 * \@Permissions('CanEdit')
 * \@Resource('id')
 * update(@Param('id') id: string) {}
 *
 * \@Post('comments')
 * \@Permissions('CanComment')
 * \@Resource((request) => request.body?.noteId)
 * comment() {}
 */
export function Resource(from: string | ResourceResolver): ClassDecorator & MethodDecorator {
  if (typeof from === 'function') return SetMetadata(RESOURCE_KEY, from);
  if (typeof from !== 'string' || from.trim() === '') {
    throw new AuthzConfigurationError('@Resource() was given neither a route parameter name nor a function.', "name the route parameter that holds the id, e.g. @Resource('id'), or pass (request) => request.params.id.");
  }
  const param = from;
  const fromParam: ResourceResolver = (request: { params?: Record<string, unknown> }) => {
    const value = request.params?.[param];
    return typeof value === 'string' ? value : undefined;
  };
  // Named after the parameter so that the route report and error messages can say where the id comes from.
  Object.defineProperty(fromParam, 'name', { value: `param:${param}` });
  return SetMetadata(RESOURCE_KEY, fromParam);
}
