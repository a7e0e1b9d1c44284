import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';

/** One client connection and its connection to the target, with what the proxy holds back while stalled. */
interface Pair {
  readonly client: Socket;
  readonly upstream: Socket;
  /** Bytes received while stalled, per direction, forwarded on restore. */
  readonly held: { toUpstream: Buffer[]; toClient: Buffer[] };
}

/** What the proxy does with traffic: forward it, refuse it (new connections are reset), or hold it (stall). */
export type ProxyMode = 'forwarding' | 'refusing' | 'stalled';

/**
 * A TCP proxy on 127.0.0.1 between a client (a `pg` pool) and a server (PostgreSQL), for faults that a real network
 * has: connections cut, connections refused, and a server that stops answering without closing anything.
 *
 * @example
 * const proxy = await TcpProxy.start({ host: '127.0.0.1', port: 5432 });
 * const driver = await PgDriver.connect(proxy.rewrite(process.env.TEST_DATABASE_URL!));
 * proxy.cut();      // every connection reset, new ones too
 * proxy.restore();  // new connections reach the server again
 * await proxy.close();
 */
export class TcpProxy {
  private readonly pairs = new Set<Pair>();
  private mode: ProxyMode = 'forwarding';

  private constructor(
    private readonly server: Server,
    private readonly target: { readonly host: string; readonly port: number },
  ) {
    server.on('connection', (client) => this.accept(client));
  }

  /** Listens on an ephemeral port of 127.0.0.1 and forwards to `target`. */
  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return new TcpProxy(server, target);
  }

  /** The proxy in front of the server a PostgreSQL URL names (`postgres://user@host:port/db`). */
  static forDatabaseUrl(url: string): Promise<TcpProxy> {
    const parsed = new URL(url);
    return TcpProxy.start({ host: parsed.hostname || '127.0.0.1', port: Number(parsed.port || 5432) });
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Bytes held back (both directions, every connection) while stalled. */
  get heldBytes(): number {
    let bytes = 0;
    for (const pair of this.pairs) for (const chunk of [...pair.held.toUpstream, ...pair.held.toClient]) bytes += chunk.length;
    return bytes;
  }

  /** The URL with its host and port replaced by the proxy's. */
  rewrite(url: string): string {
    const parsed = new URL(url);
    parsed.hostname = '127.0.0.1';
    parsed.port = String(this.port);
    return parsed.toString();
  }

  /** New connections are reset at once (the client sees ECONNRESET); open ones keep working. */
  refuse(): void {
    this.mode = 'refusing';
  }

  /** Resets every open connection and refuses new ones, like a server or network that went away. */
  cut(): void {
    this.refuse();
    for (const pair of this.pairs) this.drop(pair);
  }

  /** Holds every byte in both directions (open and new connections), like a server that stopped answering. */
  stall(): void {
    this.mode = 'stalled';
  }

  /** Forwards again, first what was held while stalled. */
  restore(): void {
    this.mode = 'forwarding';
    for (const pair of this.pairs) {
      for (const chunk of pair.held.toUpstream.splice(0)) pair.upstream.write(chunk);
      for (const chunk of pair.held.toClient.splice(0)) pair.client.write(chunk);
    }
  }

  /** Resets every connection and stops listening. */
  async close(): Promise<void> {
    for (const pair of this.pairs) this.drop(pair);
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    if (this.mode === 'refusing') return void resetNow(client);
    const upstream = connect(this.target.port, this.target.host);
    const pair: Pair = { client, upstream, held: { toUpstream: [], toClient: [] } };
    this.pairs.add(pair);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    client.on('data', (chunk) => (this.mode === 'stalled' ? pair.held.toUpstream.push(chunk) : upstream.write(chunk)));
    upstream.on('data', (chunk) => (this.mode === 'stalled' ? pair.held.toClient.push(chunk) : client.write(chunk)));
    // Either side ending or failing ends both: a connection lost on one side is lost for the client.
    const end = () => this.drop(pair, false);
    for (const socket of [client, upstream]) {
      socket.on('error', end);
      socket.on('close', end);
    }
  }

  /** Ends both sides: with a reset (a cut), or as an orderly close that passes on what the other side did. */
  private drop(pair: Pair, reset = true): void {
    if (!this.pairs.delete(pair)) return;
    if (reset) {
      resetNow(pair.client);
      resetNow(pair.upstream);
    } else {
      closeGently(pair.client);
      closeGently(pair.upstream);
    }
  }
}

/**
 * Resets a connection (RST, the peer sees ECONNRESET). A socket that is already ending is only destroyed: seen on
 * Node 20, resetAndDestroy() on one whose peer had just closed left its native handle open, and jest never exited.
 * A socket still connecting is destroyed too (resetAndDestroy() would wait for the connection).
 */
function resetNow(socket: Socket): void {
  if (socket.destroyed) return;
  if (socket.writableEnded || socket.connecting) socket.destroy();
  else socket.resetAndDestroy();
}

/** Ends a socket after what was written to it is flushed (a server's last error message reaches the client). */
function closeGently(socket: Socket): void {
  if (socket.destroyed) return;
  if (socket.writableFinished) return void socket.destroy();
  socket.once('finish', () => socket.destroy());
  socket.end();
}
