import { BadRequestException, Catch, HttpException, HttpStatus, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { InvalidPolicyError, PolicyStoreError } from 'nestjs-authz';

/** Seconds a client should wait before retrying after a 503 of the notes API; as the library's guard says. */
export const STORE_RETRY_AFTER_SECONDS = 5;

/** 503: the policy store failed, or refused a write the app cannot do without (a role missing in the policy). */
export class StoreUnavailableException extends HttpException {
  constructor(message: string) {
    super({ statusCode: HttpStatus.SERVICE_UNAVAILABLE, error: 'Service Unavailable', message }, HttpStatus.SERVICE_UNAVAILABLE);
  }
}

/**
 * What a failed write to the policy store means for the caller, never a 500. The input was checked before the
 * write, so nothing of it is the caller's fault: a {@link PolicyStoreError} (e.g. `RoleNotFoundError`: the store's
 * `note` policy lacks `owner` or a share role, someone changed it) is a server-side problem, and any other error is
 * a store that is down; both are 503. Only an `InvalidPolicyError` (a name the store refuses) is the request's, 400.
 *
 * @example
 * await this.store.edit(edits, { actor }).catch((error) => { throw storeWriteFailed(error, 'share the note'); });
 */
export function storeWriteFailed(error: unknown, what: string): HttpException {
  if (error instanceof InvalidPolicyError) return new BadRequestException({ message: [error.message], error: 'Bad Request', statusCode: 400 });
  if (error instanceof PolicyStoreError) return new StoreUnavailableException(`Could not ${what}: ${error.message}`);
  return new StoreUnavailableException(`Could not ${what}: the policy store is unavailable; try again later`);
}

/** Answers {@link StoreUnavailableException} with `Retry-After`, on Express and Fastify alike. */
@Catch(StoreUnavailableException)
export class StoreUnavailableFilter implements ExceptionFilter {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(exception: StoreUnavailableException, host: ArgumentsHost): void {
    const adapter = this.adapterHost.httpAdapter;
    const response = host.switchToHttp().getResponse();
    adapter.setHeader(response, 'Retry-After', String(STORE_RETRY_AFTER_SECONDS));
    adapter.reply(response, exception.getResponse(), exception.getStatus());
  }
}
