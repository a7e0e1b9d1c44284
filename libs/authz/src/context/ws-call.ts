import { Logger, type ExecutionContext } from '@nestjs/common';
import { InvalidTokenException, type AuthzException } from '../authz.exceptions';
import type { BearerRequest } from '../http/bearer-token';
import type { AuthzIdentity } from '../identity/identity';
import type { TokenVerifier } from '../jwt/token-verifier';
import type { VerifiedClaims } from '../jwt/verified-claims';
import type { AuthzCall, Transport } from './authz-call';
import { atExpiry, CLOSE_UNAUTHENTICATED } from './expiry';
import { refusalOf } from './refusal';
import { authorizationEntries, rememberedHandshake, type WsRefusal } from './ws-handshake';

/**
 * WebSocket gateways (@nestjs/websockets), on socket.io (`IoAdapter`) and on `ws` (`WsAdapter`). The guard runs on
 * every message; the connection's credentials come from its handshake and are read once per connection:
 *
 * - socket.io: the handshake's `Authorization: Bearer <token>` header, or `auth.token` holding the bare token
 *   (`io(url, { auth: { token } })`, the way a browser sends it). Both at once count as two Authorization headers
 *   (400 BAD_REQUEST).
 * - ws: the upgrade request's `Authorization` header, kept by `rememberHandshake(client, request)` in the gateway's
 *   `handleConnection` (a `ws` client does not keep its upgrade request).
 *
 * The verified identity is kept per connection (`@CurrentIdentity()` reads it). The connection is closed (socket.io
 * `disconnect(true)`, ws `close(4401, ...)`) when its token stops being accepted: by a timer set at the first
 * verification for `exp` (plus `clockTolerance`, or `maxTokenAge` if sooner), and after any message refused as
 * invalid_token (expired, badly signed, signed by a withdrawn key), since a connection's token cannot change.
 * Refusals are `WsException`s carrying `{ code, message, ... }` (see {@link wsRefusalOf}).
 */
export const wsTransport: Transport = {
  request: (context: ExecutionContext) => connectionOf(context.switchToWs().getClient<unknown>()).request,
  call(context, _request, tools) {
    return connectionOf(context.switchToWs().getClient<unknown>()).callFor(tools.verifier);
  },
};

/** The payload of the `WsException` for a refusal of the guard. */
export function wsRefusalOf(refusal: AuthzException): WsRefusal {
  return refusalOf(refusal);
}

type WsExceptionClass = new (error: object) => Error;
let WsException: WsExceptionClass | undefined;

/**
 * A `WsException`, from @nestjs/websockets loaded on first use: it is an optional peer, and the main entry point
 * loads none (a 'ws' context only exists where it is installed). No stack trace: a refusal is no fault.
 */
function wsException(payload: WsRefusal): Error {
  if (!WsException) {
    try {
      WsException = (require('@nestjs/websockets') as { WsException: WsExceptionClass }).WsException;
    } catch (error) {
      throw new Error('nestjs-authz: refusing a WebSocket message needs @nestjs/websockets, which could not be loaded.\n  How to fix: npm install @nestjs/websockets', { cause: error });
    }
  }
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new WsException(payload);
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** What the library uses of a socket.io `Socket`. */
interface SocketIoClient {
  readonly handshake: { readonly headers?: BearerRequest['headers']; readonly auth?: Record<string, unknown> };
  readonly request?: { readonly rawHeaders?: readonly string[] };
  emit(event: string, payload: unknown): unknown;
  disconnect(close?: boolean): unknown;
  once(event: string, listener: () => void): unknown;
}

/** What the library uses of a `ws` `WebSocket`. */
interface WsClient {
  readonly readyState: number;
  close(code?: number, reason?: string): void;
  once(event: string, listener: () => void): unknown;
}

const WS_CLOSING = 2;
const logger = new Logger('AuthzGuard');
let warnedNoHandshake = false;

function isSocketIo(client: object): client is SocketIoClient {
  const candidate = client as Partial<SocketIoClient>;
  return typeof candidate.handshake === 'object' && candidate.handshake !== null && typeof candidate.disconnect === 'function';
}

function isWs(client: object): client is WsClient {
  const candidate = client as Partial<WsClient>;
  return typeof candidate.readyState === 'number' && typeof candidate.close === 'function';
}

const connections = new WeakMap<object, WsConnection>();

function connectionOf(client: unknown): WsConnection {
  // Not an object: nothing can be kept on it, and no credentials read from it (every protected message is refused).
  if (typeof client !== 'object' || client === null) return new WsConnection(undefined, {}, undefined);
  let connection = connections.get(client);
  if (!connection) {
    connection = newConnection(client);
    connections.set(client, connection);
  }
  return connection;
}

function newConnection(client: object): WsConnection {
  const remembered = rememberedHandshake(client);
  if (remembered) return new WsConnection(client, { authorization: remembered.authorization }, remembered.rawHeaders);
  if (isSocketIo(client)) {
    const header = client.handshake.headers?.authorization;
    const rawHeaders = authorizationEntries(client.request?.rawHeaders);
    const auth = client.handshake.auth;
    const token = typeof auth === 'object' && auth !== null && Object.hasOwn(auth, 'token') ? auth.token : undefined;
    if (token === undefined || token === null) return new WsConnection(client, { authorization: header }, rawHeaders);
    // auth.token is the bare token; anything but a string is a malformed credential (400), never a missing one.
    const fromAuth = `Bearer ${typeof token === 'string' ? token : ''}`;
    return new WsConnection(client, { authorization: header === undefined || header === '' ? fromAuth : [header, fromAuth].flat() }, rawHeaders);
  }
  if (isWs(client) && !warnedNoHandshake) {
    warnedNoHandshake = true;
    logger.warn('A ws connection reached AuthzGuard without its handshake: call rememberHandshake(client, request) in the gateway\'s handleConnection, or every protected message is refused as UNAUTHENTICATED');
  }
  return new WsConnection(client, {}, undefined);
}

/** One connection: its request object (credentials, identity), its expiry timer, and how to close it. */
class WsConnection {
  readonly request: AuthzCall['request'];
  private identity?: AuthzIdentity;
  private call?: AuthzCall;
  private verifier?: TokenVerifier;
  private cancelExpiry?: () => void;
  private closed = false;

  constructor(
    private readonly client: object | undefined,
    headers: BearerRequest['headers'],
    rawHeaders: readonly string[] | undefined,
  ) {
    // The guard sets `user` once the message passes: that is when the connection's expiry is known.
    const connection = this;
    this.request = {
      headers,
      ...(rawHeaders ? { rawHeaders } : {}),
      get user(): AuthzIdentity | undefined {
        return connection.identity;
      },
      set user(identity: AuthzIdentity | undefined) {
        connection.identity = identity;
        if (identity && !connection.cancelExpiry && !connection.closed) connection.watchExpiry(identity);
      },
    };
  }

  callFor(verifier: TokenVerifier): AuthzCall {
    if (this.call && this.verifier === verifier) return this.call;
    this.verifier = verifier;
    return (this.call = {
      request: this.request,
      queryTokens: false,
      setHeader: () => undefined,
      refuse: (refusal) => {
        // The token of a connection cannot change: once refused as invalid, every later message would be too.
        if (refusal instanceof InvalidTokenException) {
          // After the refusal's exception event has gone out (it is sent in the same turn of the event loop).
          setImmediate(() => this.close(refusal.description === 'The token has expired' ? 'token expired' : 'invalid token', false));
        }
        return wsException(wsRefusalOf(refusal));
      },
    });
  }

  /** Closes the connection when the token stops being accepted (`TokenVerifier.acceptedUntil`). */
  private watchExpiry(identity: AuthzIdentity): void {
    // An identity without `exp` (one mapped from another strategy) has no expiry to watch.
    if (!this.client || !this.verifier || typeof identity.claims.exp !== 'number') return;
    this.cancelExpiry = atExpiry(this.verifier.acceptedUntil(identity.claims as VerifiedClaims), () => this.close('token expired', true));
    (this.client as { once(event: string, listener: () => void): unknown }).once(isSocketIo(this.client) ? 'disconnect' : 'close', () => {
      this.closed = true;
      this.cancelExpiry?.();
    });
  }

  private close(reason: string, tell: boolean): void {
    const client = this.client;
    if (this.closed || !client) return;
    this.closed = true;
    this.cancelExpiry?.();
    if (isSocketIo(client)) {
      // socket.io's disconnect reason is only 'io server disconnect': say why first, as a refusal would.
      if (tell) client.emit('exception', { code: 'UNAUTHENTICATED', message: 'The token has expired' } satisfies WsRefusal);
      client.disconnect(true);
    } else if (isWs(client) && client.readyState < WS_CLOSING) {
      client.close(CLOSE_UNAUTHENTICATED, reason);
    }
  }
}
