import type { ExecutionContext } from '@nestjs/common';
import { UnsupportedContextException, withoutStack } from '../authz.exceptions';
import type { AuthzCall, CallMapperTools, Transport } from './authz-call';
import { graphqlTransport } from './graphql-call';
import { httpTransport } from './http-call';
import { rpcTransport } from './rpc-call';
import { wsTransport } from './ws-call';

/** The transports the guard understands, by `context.getType()`. Anything else is denied. */
const TRANSPORTS: Readonly<Record<string, Transport>> = {
  http: httpTransport,
  graphql: graphqlTransport,
  rpc: rpcTransport,
  ws: wsTransport,
};

function transportOf(context: ExecutionContext): Transport | undefined {
  const type = context.getType<string>();
  return Object.hasOwn(TRANSPORTS, type) ? TRANSPORTS[type] : undefined;
}

/**
 * The one place that maps an execution context to what the guard needs (compare @nestjs/throttler's
 * `getRequestResponse`). An unknown transport fails closed.
 *
 * @example
 * const call = callOf(context, { config, adapterHost }); // throws 403 UnsupportedContextException for an unknown type
 */
export function callOf(context: ExecutionContext, tools: CallMapperTools): AuthzCall {
  const transport = transportOf(context);
  if (!transport) throw withoutStack(() => new UnsupportedContextException(context.getType<string>()));
  return transport.call(context, transport.request(context), tools);
}

/** The request object a transport keeps the identity on, for `@CurrentIdentity()`; `undefined` for unknown ones. */
export function requestOf(context: ExecutionContext): AuthzCall['request'] | undefined {
  return transportOf(context)?.request(context);
}
