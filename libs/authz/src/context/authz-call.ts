import type { ExecutionContext } from '@nestjs/common';
import type { HttpAdapterHost } from '@nestjs/core';
import type { AuthzConfig } from '../authz.config';
import type { AuthzException } from '../authz.exceptions';
import type { BearerRequest } from '../http/bearer-token';
import type { AuthzIdentity } from '../identity/identity';
import type { TokenVerifier } from '../jwt/token-verifier';

/**
 * One call as the guard sees it, whatever the transport: where the credentials are, where the identity goes, and
 * how a refusal is answered. Made per call by the transport's {@link Transport}.
 */
export interface AuthzCall {
  /**
   * What the bearer token is read from (`headers.authorization`, and the query for `allowQueryToken` on HTTP), and
   * where the verified identity is put (`user`, read by `@CurrentIdentity()` and `@Resource()` resolvers).
   */
  readonly request: BearerRequest & { user?: AuthzIdentity };
  /** Whether `?access_token=` may be read at all (HTTP only). */
  readonly queryTokens: boolean;
  /** Sets a response header where the transport has them (HTTP); does nothing elsewhere. */
  setHeader(name: string, value: string): void;
  /** The error to throw for a refusal, in the transport's terms (with the RFC 6750 headers where it has them). */
  refuse(refusal: AuthzException): unknown;
}

/** What a transport's mapper gets besides the execution context. */
export interface CallMapperTools {
  readonly config: AuthzConfig;
  readonly adapterHost: HttpAdapterHost;
  /** The guard's verifier: when a connection's token stops being accepted. */
  readonly verifier: TokenVerifier;
}

/**
 * One transport (`context.getType()`): how to find the call's request object, and how to make the rest of the
 * {@link AuthzCall}. One per transport, in `context/transports.ts`; a transport without one is denied
 * (UnsupportedContextException).
 */
export interface Transport {
  /** The object that carries the credentials and keeps the identity; also what `@CurrentIdentity()` reads. */
  request(context: ExecutionContext): AuthzCall['request'];
  /** The call for the guard, on that request. */
  call(context: ExecutionContext, request: AuthzCall['request'], tools: CallMapperTools): AuthzCall;
}
