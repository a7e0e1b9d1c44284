import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * `drip`: status and headers at once, then one byte every 50 ms, never finishing; `huge`: a valid JSON body of
 * {@link JwksServer.hugeBytes} bytes (padding in an extra member), sent at once.
 */
export type EndpointMode = 'ok' | 'unavailable' | 'hang' | 'drip' | 'huge';

/**
 * An identity provider's key endpoints on 127.0.0.1 that a test controls. Serves `/.well-known/openid-configuration`
 * (issuer = `issuer`) and `/jwks`; each can be up, down (503) or hanging, `/jwks` can redirect, and every request is
 * recorded by path, so a test can also prove that a token header caused no request at all (point `jku`/`x5u` at a
 * second instance and expect `requests` to stay empty).
 */
export class JwksServer {
  keys: Record<string, unknown>[] = [];
  jwksMode: EndpointMode = 'ok';
  discoveryMode: EndpointMode = 'ok';
  /** When set, `/jwks` answers 302 to this URL (a client must not follow it). */
  redirectJwksTo?: string;
  /** When set, the discovery document answers 302 to this URL (a client must not follow it). */
  redirectDiscoveryTo?: string;
  /** When set, the discovery document names this `jwks_uri` instead of this server's `/jwks`. */
  discoveredJwksUri?: string;
  /** Body size in `huge` mode. */
  hugeBytes = 600 * 1024;
  /** Whether `huge` mode declares its length (`Content-Length`) or streams it chunked. */
  hugeDeclared = true;
  /** Path and query of every request received, in order. */
  readonly requests: string[] = [];
  url = '';
  private server?: Server;
  private readonly hanging = new Set<ServerResponse>();

  /** The issuer whose discovery document this server serves. */
  get issuer(): string {
    return `${this.url}/`;
  }

  get jwksUri(): string {
    return `${this.url}/jwks`;
  }

  /** How many requests asked for `path` (exact, query included). */
  count(path: string): number {
    return this.requests.filter((request) => request === path).length;
  }

  get jwksRequests(): number {
    return this.count('/jwks');
  }

  get discoveryRequests(): number {
    return this.count('/.well-known/openid-configuration');
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.hanging.clear();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = req.url ?? '';
    this.requests.push(path);
    if (path === '/.well-known/openid-configuration' && this.redirectDiscoveryTo) {
      res.writeHead(302, { location: this.redirectDiscoveryTo }).end();
      return;
    }
    if (path === '/.well-known/openid-configuration') {
      return this.answer(res, this.discoveryMode, { issuer: this.issuer, jwks_uri: this.discoveredJwksUri ?? this.jwksUri });
    }
    if (path === '/jwks' && this.redirectJwksTo) {
      res.writeHead(302, { location: this.redirectJwksTo }).end();
      return;
    }
    if (path === '/jwks') return this.answer(res, this.jwksMode, { keys: this.keys });
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
  }

  private answer(res: ServerResponse, mode: EndpointMode, body: unknown): void {
    if (mode === 'hang') {
      this.hanging.add(res);
      return;
    }
    if (mode === 'drip') {
      this.hanging.add(res);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"keys":[');
      const timer = setInterval(() => (res.destroyed ? clearInterval(timer) : res.write(' ')), 50);
      res.on('close', () => clearInterval(timer));
      return;
    }
    if (mode === 'huge') {
      const json = JSON.stringify({ ...(body as object), padding: '' });
      const text = `${json.slice(0, -2)}${'x'.repeat(Math.max(0, this.hugeBytes - json.length))}"}`;
      if (this.hugeDeclared) {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
      } else {
        res.writeHead(200, { 'content-type': 'application/json' });
        for (let at = 0; at < text.length; at += 16 * 1024) res.write(text.slice(at, at + 16 * 1024));
        res.end();
      }
      return;
    }
    if (mode === 'unavailable') {
      res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"down"}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  }
}
