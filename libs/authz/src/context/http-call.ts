import type { ExecutionContext } from '@nestjs/common';
import { refusalHeaders } from '../http/challenge';
import type { AuthzCall, Transport } from './authz-call';

/**
 * HTTP (Express or Fastify): the request itself, headers through the platform's adapter, refusals as the
 * library's HTTP exceptions with `WWW-Authenticate` / `Retry-After` set on the response.
 */
export const httpTransport: Transport = {
  request: (context: ExecutionContext) => context.switchToHttp().getRequest<AuthzCall['request']>(),
  call(context, request, { config, adapterHost }) {
    const response = context.switchToHttp().getResponse<unknown>();
    const setHeader = (name: string, value: string) => adapterHost.httpAdapter.setHeader(response, name, value);
    return {
      request,
      queryTokens: config.allowQueryToken,
      setHeader,
      refuse(refusal) {
        for (const [name, value] of Object.entries(refusalHeaders(refusal, config.realm))) setHeader(name, value);
        return refusal;
      },
    };
  },
};
