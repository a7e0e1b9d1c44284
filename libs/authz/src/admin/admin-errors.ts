import { HttpException, HttpStatus } from '@nestjs/common';
import { InvalidPolicyError } from '../policy/policy-document';
import { PolicyNotFoundError, RevisionConflictError, RoleInUseError, RoleNotFoundError } from '../store/store-errors';
import { STORE_RETRY_AFTER_SECONDS } from './admin.constants';

/**
 * How the admin API answers one failure.
 *
 * @example
 * { status: 503, body: { statusCode: 503, ... }, headers: { 'Retry-After': '5' }, fault: true }
 */
export interface AdminErrorAnswer {
  readonly status: number;
  readonly body: object;
  readonly headers: Readonly<Record<string, string>>;
  /** Whether it is a fault (the store failed) that operators should see in the logs. */
  readonly fault: boolean;
}

/**
 * The admin API's answer to anything a handler, pipe or guard threw: HttpExceptions as they are (the guard's
 * refusals keep their body; their headers are already on the response), the store's refusals as 400/404/409, and
 * anything else as 503 with `Retry-After`: a store that fails is down, which is not the caller's fault, and a
 * write that failed may be retried. Never a 500.
 *
 * @example
 * adminErrorAnswer(new RoleInUseError('note', 'reader')).status; // 409
 */
export function adminErrorAnswer(exception: unknown): AdminErrorAnswer {
  if (exception instanceof HttpException) {
    const response = exception.getResponse();
    const body = typeof response === 'object' && response !== null ? response : { statusCode: exception.getStatus(), message: response };
    return { status: exception.getStatus(), body, headers: {}, fault: false };
  }
  if (exception instanceof InvalidPolicyError) return refusal(HttpStatus.BAD_REQUEST, 'Bad Request', exception.message, { field: exception.field });
  if (exception instanceof PolicyNotFoundError) return refusal(HttpStatus.NOT_FOUND, 'Not Found', exception.message, { policy: exception.policy });
  if (exception instanceof RoleNotFoundError) return refusal(HttpStatus.NOT_FOUND, 'Not Found', exception.message, { policy: exception.policy, role: exception.role });
  if (exception instanceof RevisionConflictError) {
    return refusal(HttpStatus.CONFLICT, 'Conflict', exception.message, { policy: exception.policy, expectedRevision: exception.expected, revision: exception.actual });
  }
  if (exception instanceof RoleInUseError) return refusal(HttpStatus.CONFLICT, 'Conflict', exception.message, { policy: exception.policy, role: exception.role });
  return {
    status: HttpStatus.SERVICE_UNAVAILABLE,
    body: { statusCode: HttpStatus.SERVICE_UNAVAILABLE, error: 'Service Unavailable', message: 'The policy store is unavailable; try again later' },
    headers: { 'Retry-After': String(STORE_RETRY_AFTER_SECONDS) },
    fault: true,
  };
}

function refusal(status: number, error: string, message: string, extra: Record<string, unknown>): AdminErrorAnswer {
  return { status, body: { statusCode: status, error, message, ...extra }, headers: {}, fault: false };
}
