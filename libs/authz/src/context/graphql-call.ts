import type { ExecutionContext } from '@nestjs/common';
import { AuthzException } from '../authz.exceptions';
import { extractBearerToken } from '../http/bearer-token';
import { refusalHeaders } from '../http/challenge';
import type { TokenVerifier } from '../jwt/token-verifier';
import type { AuthzCall, Transport } from './authz-call';
import { atExpiry, CLOSE_UNAUTHENTICATED } from './expiry';
import { refusalOf } from './refusal';

// Nothing here imports `graphql` or `@nestjs/graphql` at load time: they are optional peers, and the library's main
// entry point loads this file. `graphql` is required only when a GraphQL refusal is made, which means it is there.

type GraphQLErrorClass = new (message: string, options?: { extensions?: Record<string, unknown> }) => Error & { extensions: Record<string, unknown> };

let graphQLErrorClass: GraphQLErrorClass | undefined;

function loadGraphQLError(): GraphQLErrorClass {
  if (graphQLErrorClass) return graphQLErrorClass;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    graphQLErrorClass = (require('graphql') as { GraphQLError: GraphQLErrorClass }).GraphQLError;
  } catch (error) {
    throw new Error(`nestjs-authz: a GraphQL call was refused, but the 'graphql' package cannot be loaded (${(error as Error).message}).\n  How to fix: install graphql next to @nestjs/graphql (npm install graphql).`);
  }
  return graphQLErrorClass;
}

type Headers = Record<string, string | string[] | undefined>;
interface HttpResponseLike {
  setHeader?(name: string, value: string): unknown;
  header?(name: string, value: string): unknown;
}
interface ContextLike {
  req?: { headers?: Headers; res?: HttpResponseLike; connectionParams?: unknown; connectionInitReceived?: unknown } & Record<string, unknown>;
  res?: HttpResponseLike;
  reply?: HttpResponseLike & { request?: { headers?: Headers } };
  request?: { headers?: Headers };
  connectionParams?: unknown;
  _connectionInit?: unknown;
}

/** Where the call came from: an HTTP request (Apollo on Express or Fastify, Mercurius), or a subscription socket. */
interface GraphqlSource {
  readonly request: AuthzCall['request'];
  /** The HTTP response to set headers on; none for subscriptions. */
  readonly response?: HttpResponseLike;
  /** `apollo`: status and headers go in `extensions.http`; `mercurius`: on the reply and the error's `statusCode`. */
  readonly driver: 'apollo' | 'mercurius' | 'socket';
}

// The request made from a subscription's connection parameters, kept per GraphQL context so that the identity the
// guard puts on it is what `@CurrentIdentity()` reads later in the same operation.
const socketRequests = new WeakMap<object, AuthzCall['request']>();

/**
 * The `Authorization` value in graphql-ws `connectionParams`: `authorization` or `Authorization` (a string), as
 * clients send `{ authorization: 'Bearer …' }`. Anything else is no credential.
 */
export function authorizationOf(connectionParams: unknown): string | undefined {
  if (!connectionParams || typeof connectionParams !== 'object') return undefined;
  const params = connectionParams as Record<string, unknown>;
  const value = Object.hasOwn(params, 'authorization') ? params.authorization : Object.hasOwn(params, 'Authorization') ? params.Authorization : undefined;
  return typeof value === 'string' ? value : undefined;
}

function isSocketContext(value: unknown): value is { connectionParams?: unknown } {
  // graphql-ws's per-connection context (what @nestjs/apollo puts in `req` when the app gives no context function).
  return !!value && typeof value === 'object' && 'connectionInitReceived' in value;
}

function socketRequest(gql: object, connectionParams: unknown): AuthzCall['request'] {
  let request = socketRequests.get(gql);
  if (!request) {
    const authorization = authorizationOf(connectionParams);
    request = { headers: authorization === undefined ? {} : { authorization } };
    socketRequests.set(gql, request);
  }
  return request;
}

function sourceOf(context: ExecutionContext): GraphqlSource {
  const gql = (context.getArgs()[2] ?? {}) as ContextLike;
  // Subscriptions over graphql-ws: the app's context function passed `connectionParams` on (see docs/transports.md),
  // or @nestjs/apollo's default context put graphql-ws's context in `req`; Mercurius keeps them as `_connectionInit`.
  if (Object.hasOwn(gql, 'connectionParams')) return { request: socketRequest(gql, gql.connectionParams), driver: 'socket' };
  if (isSocketContext(gql.req)) return { request: socketRequest(gql, gql.req.connectionParams), driver: 'socket' };
  // Mercurius's subscription context has a `reply` too, but a stand-in one (`{ request }`, the upgrade request, which
  // Mercurius fills with the payload's keys unless the upgrade had them): the payload is the credential, never the
  // upgrade request's headers, as on Apollo.
  if (Object.hasOwn(gql, '_connectionInit')) return { request: socketRequest(gql, gql._connectionInit), driver: 'socket' };
  // Mercurius on Fastify: the context has the reply (and `req`, the Fastify request, with @nestjs/mercurius).
  if (gql.reply) {
    const request = (gql.reply.request ?? gql.req ?? gql.request) as AuthzCall['request'] | undefined;
    if (request?.headers) return { request, response: gql.reply, driver: 'mercurius' };
  }
  // Apollo (Express or Fastify): @nestjs/apollo puts the HTTP request in `req`; Express's has `res`.
  const request = (gql.req ?? gql.request) as AuthzCall['request'] | undefined;
  if (request?.headers) return { request, response: gql.res ?? (request as { res?: HttpResponseLike }).res, driver: 'apollo' };
  // No request anywhere (a context function that dropped `req`): no credentials, so refused as without a token.
  return { request: socketRequest(gql, undefined), driver: 'socket' };
}

function setOn(response: HttpResponseLike | undefined, name: string, value: string): void {
  if (!response) return;
  // Express's response has setHeader; Fastify's reply has header (and a raw response we do not touch).
  if (typeof response.header === 'function' && typeof response.setHeader !== 'function') response.header(name, value);
  else if (typeof response.setHeader === 'function' && !(response as { headersSent?: boolean }).headersSent) response.setHeader(name, value);
  else if (typeof response.header === 'function') response.header(name, value);
}

/** The `extensions` of a refusal: its code, and what was missing (as in the HTTP body); the message is the error's. */
function extensionsOf(refusal: AuthzException): Record<string, unknown> {
  const { message: _message, ...facts } = refusalOf(refusal);
  return refusal.bearerError ? { ...facts, error: refusal.bearerError } : { ...facts };
}

/**
 * The GraphQL error for a refusal of the guard: `extensions.code` `UNAUTHENTICATED` (401), `FORBIDDEN` (403, with
 * `requiredScopes`, or `policy`, `missingPermissions` and `resource`), `BAD_REQUEST` (400) or `SERVICE_UNAVAILABLE`
 * (503). `driver` decides where the HTTP status and the `WWW-Authenticate` / `Retry-After` headers go.
 */
export function graphqlRefusal(refusal: AuthzException, realm: string, driver: 'apollo' | 'mercurius' | 'socket' = 'socket'): Error & { extensions: Record<string, unknown> } {
  const GraphQLError = loadGraphQLError();
  const extensions = extensionsOf(refusal);
  const headers = refusalHeaders(refusal, realm);
  // Apollo Server 4/5 takes the status and headers from `extensions.http` (a Map of headers) and removes it from
  // the answer; @nestjs/apollo then resets the status to 200 when the answer has `data`, unless the app sets
  // `preserveHttpStatusForExecutionErrors: false`.
  if (driver === 'apollo') extensions.http = { status: refusal.getStatus(), headers: new Map(Object.entries(headers)) };
  const error = new GraphQLError(refusal.description, { extensions });
  // Mercurius answers with the original error's `statusCode` when the answer has no data. Not enumerable: it is
  // not part of the GraphQL answer.
  if (driver === 'mercurius') Object.defineProperty(error, 'statusCode', { value: refusal.getStatus(), enumerable: false });
  return error;
}

/**
 * GraphQL with `@nestjs/graphql` (`context.getType() === 'graphql'`; the resolver's arguments are
 * `[root, args, context, info]`): the HTTP request from the GraphQL context (Apollo: `req`; Mercurius: the reply's
 * request), or for subscriptions over graphql-ws a request made from `connectionParams.authorization`. Never a
 * query-string token. Refusals are GraphQL errors (see {@link graphqlRefusal}).
 */
export const graphqlTransport: Transport = {
  request: (context: ExecutionContext) => sourceOf(context).request,
  call(context, request, { config }) {
    const { response, driver } = sourceOf(context);
    return {
      request,
      queryTokens: false,
      setHeader: (name, value) => setOn(response, name, value),
      refuse(refusal) {
        if (driver === 'mercurius') for (const [name, value] of Object.entries(refusalHeaders(refusal, config.realm))) setOn(response, name, value);
        return graphqlRefusal(refusal, config.realm, driver);
      },
    };
  },
};

/**
 * What {@link graphqlWsOnConnect} gets: graphql-ws's connection context (`useServer` from `graphql-ws/use/ws`), or
 * Mercurius's `connection_init` message (`{ type: 'connection_init', payload }`).
 */
export interface GraphqlWsConnection {
  readonly connectionParams?: Readonly<Record<string, unknown>>;
  /** `{ socket, request }` with graphql-ws's `ws` server (the one @nestjs/graphql uses). */
  readonly extra?: unknown;
  /** Mercurius: `'connection_init'`. */
  readonly type?: string;
  /** Mercurius: the `connection_init` payload, the client's `connectionParams`. */
  readonly payload?: unknown;
}

/** Mercurius calls `onConnect(message)` as a method of its connection, which holds the socket. */
function isMercuriusInit(connection: GraphqlWsConnection): boolean {
  return connection.type === 'connection_init' && !Object.hasOwn(connection, 'connectionParams') && !Object.hasOwn(connection, 'extra');
}

interface ClosableSocket {
  close(code?: number, reason?: string): void;
  once?(event: 'close', listener: () => void): unknown;
  on?(event: 'close', listener: () => void): unknown;
}

/** Close code of {@link graphqlWsOnConnect}: 4401 for a missing or bad token and for one that expired. */
export const GRAPHQL_WS_UNAUTHORIZED = CLOSE_UNAUTHENTICATED;

/**
 * An `onConnect` for graphql-ws (`subscriptions: { 'graphql-ws': { onConnect } }` of @nestjs/graphql): checks the
 * bearer token in `connectionParams` (`authorization` or `Authorization`, `'Bearer …'`) once, when the client
 * connects, and refuses the connection (close code 4401, the reason saying why) without a valid one. A connection
 * that was let in is closed with 4401 `Token expired` when the verifier stops accepting its token
 * (`TokenVerifier.acceptedUntil`: `exp`, or `iat + maxTokenAge`, plus `clockTolerance`). Scopes and permissions are still checked
 * per operation, by the guard on each resolver.
 *
 * With Mercurius (`subscription: { onConnect: graphqlWsOnConnect(verifier) }`), it is called with the
 * `connection_init` message and closes Mercurius's socket the same way (Mercurius's own refusal, a `connection_error`,
 * is not sent then: the socket is closing).
 *
 * @example
 * GraphQLModule.forRootAsync<ApolloDriverConfig>({
 *   driver: ApolloDriver,
 *   inject: [TokenVerifier],
 *   useFactory: (verifier: TokenVerifier) => ({
 *     autoSchemaFile: true,
 *     subscriptions: { 'graphql-ws': { onConnect: graphqlWsOnConnect(verifier) } },
 *   }),
 * })
 */
export function graphqlWsOnConnect(verifier: TokenVerifier): (this: unknown, connection: GraphqlWsConnection) => Promise<boolean> {
  return async function onConnect(this: unknown, connection) {
    const mercurius = isMercuriusInit(connection);
    // Mercurius's onConnect gets the message alone; `this` is its SubscriptionConnection (`this.socket`, a ws socket).
    const socket = mercurius ? (this as { socket?: ClosableSocket } | undefined)?.socket : (connection.extra as { socket?: ClosableSocket } | undefined)?.socket;
    const connectionParams = mercurius ? connection.payload : connection.connectionParams;
    let until: number;
    try {
      const token = extractBearerToken({ headers: { authorization: authorizationOf(connectionParams) } }, false);
      until = verifier.acceptedUntil(verifier.verifyNow(token) ?? (await verifier.verify(token)));
    } catch (error) {
      if (!(error instanceof AuthzException)) throw error;
      socket?.close(GRAPHQL_WS_UNAUTHORIZED, error.getStatus() === 503 ? 'Service unavailable' : `Unauthorized: ${error.description}`.slice(0, 120));
      return false;
    }
    if (socket) {
      const stop = atExpiry(until, () => socket.close(GRAPHQL_WS_UNAUTHORIZED, 'Token expired'));
      if (typeof socket.once === 'function') socket.once('close', stop);
      else socket.on?.('close', stop);
    }
    return true;
  };
}
