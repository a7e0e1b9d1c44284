import { Catch, HttpException, type ArgumentsHost } from '@nestjs/common';
import type { GqlExceptionFilter } from '@nestjs/graphql';
import { GraphQLError } from 'graphql';

/** `extensions.code` of the notes service's HTTP exceptions over GraphQL. */
const CODES: Readonly<Record<number, string>> = { 400: 'BAD_USER_INPUT', 404: 'NOT_FOUND', 409: 'CONFLICT', 503: 'SERVICE_UNAVAILABLE' };

/**
 * The notes service speaks HTTP exceptions (404 for a note one may not see, 400, 503 when the policy store is down);
 * over GraphQL they become errors with `extensions.code` and the HTTP body's `message`, never data. The guard's
 * refusals are GraphQL errors already (UNAUTHENTICATED, FORBIDDEN, ...) and pass through untouched.
 */
@Catch(HttpException)
export class NotesGraphqlErrorFilter implements GqlExceptionFilter {
  static badInput(message: string): GraphQLError {
    return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } });
  }

  catch(exception: HttpException, _host: ArgumentsHost): GraphQLError {
    const status = exception.getStatus();
    const body = exception.getResponse();
    const details = typeof body === 'object' && body !== null ? (body as { message?: unknown }).message : undefined;
    return new GraphQLError(exception.message, {
      extensions: { code: CODES[status] ?? (status >= 500 ? 'INTERNAL_SERVER_ERROR' : 'BAD_REQUEST'), ...(Array.isArray(details) ? { details } : {}) },
    });
  }
}
