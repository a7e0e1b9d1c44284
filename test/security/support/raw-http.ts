import { request } from 'node:http';
import { connect } from 'node:net';

export interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/**
 * A GET with header values given as lists, so one header can be sent several times (supertest merges them).
 * `Connection: close` keeps nothing open after the test.
 */
export function getWithHeaders(url: string, headers: Record<string, string | string[]>): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', headers: { ...headers, connection: 'close' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * Writes a request byte for byte over TCP (bytes an HTTP client refuses to send: control characters, raw UTF-8)
 * and reads the status code of the answer, whoever gave it (the app or Node's parser).
 */
export function rawStatus(url: string, requestBytes: Buffer): Promise<number> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(requestBytes));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const statusLine = Buffer.concat(chunks).toString('latin1').split('\r\n', 1)[0];
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
      if (match) resolve(Number(match[1]));
      else reject(new Error(`no HTTP answer: ${JSON.stringify(statusLine)}`));
    });
  });
}
