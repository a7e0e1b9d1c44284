import type { ExecutionContext } from '@nestjs/common';
import type { AuthzException } from '../authz.exceptions';
import type { AuthzCall, Transport } from './authz-call';
import { refusalOf, type Refusal } from './refusal';

/** The error object a refused message answers with (what the client's observable errors with). */
export interface RpcRefusal extends Refusal {
  readonly status: 400 | 401 | 403 | 503;
}

/**
 * The request object of one message: the credentials found, the payload as `body` (so that
 * `@Resource((request) => request.body?.id)` reads the same on HTTP and RPC), and the identity as `user`.
 */
type RpcRequest = AuthzCall['request'] & { body: unknown };

type RpcExceptionClass = new (error: object) => Error;

// One request object per message, keyed by its payload, so that the guard and `@CurrentIdentity()` (which get
// different execution contexts for the same message) see the same object and the identity the guard put on it.
const requests = new WeakMap<object, AuthzCall['request']>();

let rpcException: RpcExceptionClass | undefined;

/**
 * `RpcException` from `@nestjs/microservices`, loaded on the first refusal: the package is an optional peer, and
 * the library's main entry point must not load it. Only an app that runs microservices gets here, so it has it.
 */
function rpcExceptionClass(): RpcExceptionClass {
  if (!rpcException) {
    try {
      rpcException = (require('@nestjs/microservices') as { RpcException: RpcExceptionClass }).RpcException;
    } catch (cause) {
      throw new Error('nestjs-authz: refusing an RPC call needs RpcException from @nestjs/microservices, which could not be loaded.\n  How to fix: npm install @nestjs/microservices', { cause });
    }
  }
  return rpcException;
}

/**
 * The string `authorization` values of a plain record, or of a headers object with `get()` (NATS `MsgHdrs`, gRPC
 * `Metadata`). Values that are no strings, or empty, count as none.
 */
function authorizationIn(carrier: unknown, headersObject = true): string[] {
  if (typeof carrier !== 'object' || carrier === null) return [];
  const get = headersObject ? (carrier as { get?: unknown }).get : undefined;
  let values: unknown[];
  if (typeof get === 'function') {
    // NATS headers answer '' for a missing one; gRPC Metadata answers a list of values.
    const value: unknown = get.call(carrier, 'authorization');
    values = Array.isArray(value) ? value : [value];
  } else {
    values = ['authorization', 'Authorization'].filter((name) => Object.hasOwn(carrier, name)).map((name) => (carrier as Record<string, unknown>)[name]);
  }
  return values.filter((value): value is string => typeof value === 'string' && value !== '');
}

/** The transport's own metadata: TCP and Redis `getMetadata()`, NATS `getHeaders()`, or gRPC `Metadata` itself. */
function metadataAuthorization(rpcContext: unknown): string[] {
  if (typeof rpcContext !== 'object' || rpcContext === null) return [];
  const { getMetadata, getHeaders, getMap } = rpcContext as { getMetadata?: unknown; getHeaders?: unknown; getMap?: unknown };
  if (typeof getMetadata === 'function') return authorizationIn(getMetadata.call(rpcContext));
  if (typeof getHeaders === 'function') return authorizationIn(getHeaders.call(rpcContext));
  if (typeof getMap === 'function') return authorizationIn(rpcContext);
  return [];
}

/**
 * The bearer credentials of one message. The payload must be an object; its `authorization` field
 * (`'Bearer <token>'`) and the transport's `authorization` metadata are both read. More than one value (payload and
 * metadata both, or a repeated metadata entry) is refused with 400; a payload that is no object carries no token (401).
 */
function requestFor(data: unknown, rpcContext: unknown): RpcRequest {
  if (typeof data !== 'object' || data === null) return { headers: {}, body: data };
  const found = [...authorizationIn(data, false), ...metadataAuthorization(rpcContext)];
  return { headers: { authorization: found.length > 1 ? found : found[0] }, body: data };
}

/** What a refusal answers with: status, stable code, fixed message, and what was missing. */
export function rpcRefusalOf(refusal: AuthzException): RpcRefusal {
  return { status: refusal.getStatus() as RpcRefusal['status'], ...refusalOf(refusal) };
}

/**
 * Microservices (`@nestjs/microservices`, any transport): the bearer token in the payload's `authorization` field
 * (TCP has no headers of its own in most clients) or in the transport's metadata (`getMetadata()` / `getHeaders()`);
 * the identity on a request object made per message; refusals as `RpcException` carrying an {@link RpcRefusal},
 * which Nest's RPC exception filter sends to the client as it is.
 */
export const rpcTransport: Transport = {
  request(context: ExecutionContext) {
    const rpc = context.switchToRpc();
    const data: unknown = rpc.getData();
    // No object, no key to keep it by: such a payload carries no token either, so only @Public() handlers run.
    if (typeof data !== 'object' || data === null) return requestFor(data, undefined);
    let request = requests.get(data);
    if (!request) requests.set(data, (request = requestFor(data, rpc.getContext())));
    return request;
  },
  call(_context, request) {
    return {
      request,
      queryTokens: false,
      setHeader() {},
      refuse(refusal) {
        const RpcException = rpcExceptionClass();
        return new RpcException(rpcRefusalOf(refusal));
      },
    };
  },
};
