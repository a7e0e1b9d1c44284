import type { Refusal, RefusalCode } from './refusal';
/** The parts of a WebSocket upgrade request (Node's `IncomingMessage`) the guard reads. */
export interface HandshakeRequest {
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** Node's header list as received, where a repeated `Authorization` header still shows. */
  readonly rawHeaders?: readonly string[];
}

/** The credentials of one connection, kept from its upgrade request: the `Authorization` header only. */
export interface RememberedHandshake {
  readonly authorization?: string | string[];
  /** The `Authorization` entries of the raw header list (name, value, name, value, ...). */
  readonly rawHeaders?: readonly string[];
}

// Per client object: what its upgrade request said. A WeakMap, so a closed connection takes its entry with it.
const handshakes = new WeakMap<object, RememberedHandshake>();

/**
 * Keeps the credentials of a WebSocket connection's upgrade request for AuthzGuard, which runs on each message.
 * Needed with `WsAdapter` (@nestjs/platform-ws): a `ws` client does not keep its upgrade request, which Nest hands
 * only to `handleConnection(client, request)`. Call it first thing in `handleConnection`, before anything is awaited.
 * With socket.io (`IoAdapter`) it is not needed (the guard reads `client.handshake`) and does nothing without a
 * request, so one gateway can call it on either adapter.
 *
 * Only the `Authorization` header is kept (the request itself is not retained).
 *
 * @example
 * \@WebSocketGateway()
 * export class NotesGateway implements OnGatewayConnection {
 *   handleConnection(client: WebSocket, request: IncomingMessage) {
 *     rememberHandshake(client, request);
 *   }
 * }
 */
export function rememberHandshake(client: object, request: HandshakeRequest | undefined): void {
  // socket.io's handleConnection gets no request: nothing to keep, the guard reads client.handshake.
  if (typeof request !== 'object' || request === null || typeof request.headers !== 'object') return;
  handshakes.set(client, { authorization: request.headers.authorization, rawHeaders: authorizationEntries(request.rawHeaders) });
}

/** What {@link rememberHandshake} kept for `client`, if it was called. */
export function rememberedHandshake(client: object): RememberedHandshake | undefined {
  return handshakes.get(client);
}

/** The `Authorization` name/value pairs of a raw header list (enough to see a repeated header). */
export function authorizationEntries(rawHeaders: readonly string[] | undefined): string[] | undefined {
  if (!Array.isArray(rawHeaders)) return undefined;
  const entries: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i];
    if (typeof name === 'string' && name.length === 13 && name.toLowerCase() === 'authorization') entries.push(name, rawHeaders[i + 1]);
  }
  return entries;
}

/** The `code` of a refused WebSocket message, by the HTTP status the refusal would have had. */
export type WsRefusalCode = RefusalCode;

/** What a refused message's `exception` event carries (the `WsException`'s error). */
export type WsRefusal = Refusal;
