import { Catch, Injectable, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { adminErrorAnswer } from './admin-errors';

/**
 * The admin controllers' exception filter: writes {@link adminErrorAnswer} and logs faults (a failing store) with
 * their stack through Nest's Logger. Scoped to the admin controllers, so the app's own errors are untouched.
 *
 * @example
 * \@UseFilters(AdminExceptionFilter)
 * \@Controller('policies')
 * export class PoliciesController {}
 */
@Catch()
@Injectable()
export class AdminExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('AuthzAdmin');

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const response = http.getResponse<unknown>();
    const adapter = this.adapterHost.httpAdapter;
    const answer = adminErrorAnswer(exception);
    if (answer.fault) {
      const request = http.getRequest<unknown>();
      const route = `${adapter.getRequestMethod?.(request) ?? ''} ${adapter.getRequestUrl?.(request) ?? ''}`.trim();
      this.logger.error(`The policy store failed (${route}); answering 503`, exception instanceof Error ? exception.stack : String(exception));
    }
    if (adapter.isHeadersSent(response)) {
      adapter.end(response);
      return;
    }
    for (const [name, value] of Object.entries(answer.headers)) adapter.setHeader(response, name, value);
    adapter.reply(response, answer.body, answer.status);
  }
}
