import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type JwksMode = 'ok' | 'unavailable' | 'hang';

/**
 * An identity provider's key endpoints on 127.0.0.1 that a test controls: the served keys, outages, hangs,
 * and counts of requests. Serves `/jwks` and `/.well-known/openid-configuration` (issuer = `issuer`).
 */
export class JwksServer {
  keys: Record<string, unknown>[] = [];
  mode: JwksMode = 'ok';
  jwksRequests = 0;
  discoveryRequests = 0;
  private server?: Server;
  private readonly hanging = new Set<ServerResponse>();
  url = '';

  get jwksUri(): string {
    return `${this.url}/jwks`;
  }

  /** The issuer whose discovery document this server serves. */
  get issuer(): string {
    return `${this.url}/`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      if (req.url === '/.well-known/openid-configuration') {
        this.discoveryRequests++;
        return this.send(res, 200, { issuer: this.issuer, jwks_uri: this.jwksUri });
      }
      if (req.url !== '/jwks') return this.send(res, 404, { error: 'not found' });
      this.jwksRequests++;
      if (this.mode === 'hang') {
        this.hanging.add(res);
        return;
      }
      if (this.mode === 'unavailable') return this.send(res, 503, { error: 'down' });
      return this.send(res, 200, { keys: this.keys });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.hanging.clear();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  private send(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  }
}
