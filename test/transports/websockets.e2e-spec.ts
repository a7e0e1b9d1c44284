import type { INestApplication } from '@nestjs/common';
import { TestTokenIssuer } from 'nestjs-authz/testing';
import { connect, FLAVOURS, startGatewayApp, type TestClient } from './fixtures/ws/apps';
import { ForgetfulGateway } from './fixtures/ws/notes.gateway';

// WebSocket gateways behind the real AuthzGuard, on socket.io (IoAdapter) and ws (WsAdapter), with real signatures:
// the token comes from the handshake, each message is checked, refusals are `exception` events.

const issuer = TestTokenIssuer.create();
const bearer = (token: string) => `Bearer ${token}`;
const susan = () => bearer(issuer.sign({ sub: 'susan', scopes: ['notes:read'] }));

describe.each(FLAVOURS)('a WebSocket gateway behind AuthzGuard (%s)', (flavour) => {
  let app: INestApplication;
  let url: string;
  const clients: TestClient[] = [];
  const open = async (...args: Parameters<typeof connect> extends [unknown, unknown, ...infer Rest] ? Rest : never) => {
    const client = await connect(flavour, url, ...args);
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    ({ app, url } = await startGatewayApp(flavour, issuer));
  });

  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });

  afterAll(async () => {
    await app.close();
  });

  describe('when the handshake carries a valid token with the scope', () => {
    it('should answer the message, with the identity from @CurrentIdentity()', async () => {
      const client = await open({ header: susan() });
      await expect(client.send('whoami')).resolves.toEqual({ event: 'whoami', data: { subject: 'susan', scopes: ['notes:read'] } });
      // Per message, on the same connection.
      await expect(client.send('whoami')).resolves.toMatchObject({ event: 'whoami', data: { subject: 'susan' } });
    });

    it('should answer a handler the policy grants', async () => {
      const client = await open({ header: susan() });
      await expect(client.send('notes')).resolves.toEqual({ event: 'notes', data: [{ id: 'n1', title: 'Groceries' }] });
    });

    it("should keep the message's payload for the handler", async () => {
      const client = await open({ header: bearer(issuer.sign({ sub: 'susan', scopes: ['notes:read', 'notes:write'] })) });
      await expect(client.send('write', { title: 'Milk' })).resolves.toEqual({ event: 'write', data: { written: { title: 'Milk' } } });
    });
  });

  describe('when the handshake carries no token', () => {
    it('should refuse a protected message with UNAUTHENTICATED and keep the connection for public ones', async () => {
      const client = await open();
      await expect(client.send('whoami')).resolves.toEqual({ event: 'exception', data: { code: 'UNAUTHENTICATED', message: 'Bearer access token required' } });
      await expect(client.send('ping')).resolves.toEqual({ event: 'ping', data: { pong: true, subject: null } });
    });
  });

  describe('when the Authorization header is malformed', () => {
    it('should refuse with BAD_REQUEST', async () => {
      const client = await open({ header: 'Bearer not a token' });
      await expect(client.send('whoami')).resolves.toMatchObject({ event: 'exception', data: { code: 'BAD_REQUEST' } });
    });
  });

  describe('when the token is signed by another issuer', () => {
    it('should refuse with UNAUTHENTICATED and close the connection', async () => {
      const client = await open({ header: bearer(TestTokenIssuer.create().sign({ sub: 'susan', scopes: ['notes:read'] })) });
      await expect(client.send('whoami')).resolves.toMatchObject({ event: 'exception', data: { code: 'UNAUTHENTICATED' } });
      await expect(client.closed).resolves.toEqual(flavour === 'ws' ? { code: 4401, reason: 'invalid token' } : { reason: 'io server disconnect' });
    });
  });

  describe('when the token lacks a scope the handler needs', () => {
    it('should refuse with FORBIDDEN naming the missing scope', async () => {
      const client = await open({ header: susan() });
      await expect(client.send('write', { title: 'Milk' })).resolves.toEqual({
        event: 'exception',
        data: { code: 'FORBIDDEN', message: 'The token lacks the scope(s): notes:write', requiredScopes: ['notes:read', 'notes:write'] },
      });
    });
  });

  describe('when the policy denies the permission', () => {
    it('should refuse with FORBIDDEN naming the permission and the policy', async () => {
      const client = await open({ header: bearer(issuer.sign({ sub: 'bob', scopes: ['notes:read'] })) });
      await expect(client.send('notes')).resolves.toEqual({
        event: 'exception',
        data: { code: 'FORBIDDEN', message: "Policy 'note' does not grant: CanRead", policy: 'note', missingPermissions: ['CanRead'] },
      });
    });
  });

  describe('when the PolicyService fails', () => {
    it('should answer with an error and never with data', async () => {
      const client = await open({ header: susan() });
      await expect(client.send('audit')).resolves.toEqual({
        event: 'exception',
        data: { code: 'SERVICE_UNAVAILABLE', message: "Policy 'note' could not be evaluated; try again later", policy: 'note', retryAfter: 5 },
      });
      // The next event is the answer to the next message: nothing of the audit handler came in between.
      await expect(client.send('ping')).resolves.toMatchObject({ event: 'ping' });
    });
  });

  describe('when a handler is @Public()', () => {
    it('should answer without a token', async () => {
      const client = await open();
      await expect(client.send('ping')).resolves.toEqual({ event: 'ping', data: { pong: true, subject: null } });
    });
  });

  describe('when the token expires while the connection is open', () => {
    it('should close the connection at expiry, after answering while the token was valid', async () => {
      // exp is whole seconds: 1 to 2 s from now.
      const client = await open({ header: bearer(issuer.sign({ sub: 'susan', scopes: ['notes:read'], expiresIn: 2 })) });
      await expect(client.send('whoami')).resolves.toMatchObject({ event: 'whoami', data: { subject: 'susan' } });
      const closed = await client.closed;
      if (flavour === 'ws') {
        expect(closed).toEqual({ code: 4401, reason: 'token expired' });
      } else {
        expect(closed).toEqual({ reason: 'io server disconnect' });
        await expect(client.next()).resolves.toEqual({ event: 'exception', data: { code: 'UNAUTHENTICATED', message: 'The token has expired' } });
      }
    });
  });

  describe('when the token has already expired', () => {
    it('should refuse the message with UNAUTHENTICATED and close the connection', async () => {
      const client = await open({ header: bearer(issuer.sign({ sub: 'susan', scopes: ['notes:read'], expiresIn: -5 })) });
      await expect(client.send('whoami')).resolves.toEqual({ event: 'exception', data: { code: 'UNAUTHENTICATED', message: 'The token has expired' } });
      await expect(client.closed).resolves.toEqual(flavour === 'ws' ? { code: 4401, reason: 'token expired' } : { reason: 'io server disconnect' });
    });
  });
});

describe('a socket.io gateway with the token in the handshake auth field', () => {
  let app: INestApplication;
  let url: string;
  const clients: TestClient[] = [];

  beforeAll(async () => {
    ({ app, url } = await startGatewayApp('socket.io', issuer));
  });

  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });

  afterAll(async () => {
    await app.close();
  });

  const open = async (credentials: Parameters<typeof connect>[2]) => {
    const client = await connect('socket.io', url, credentials);
    clients.push(client);
    return client;
  };

  it('should accept the bare token in auth.token', async () => {
    const client = await open({ authToken: issuer.sign({ sub: 'susan', scopes: ['notes:read'] }) });
    await expect(client.send('whoami')).resolves.toEqual({ event: 'whoami', data: { subject: 'susan', scopes: ['notes:read'] } });
  });

  it('should refuse a token sent both in auth.token and in the Authorization header with BAD_REQUEST', async () => {
    const token = issuer.sign({ sub: 'susan', scopes: ['notes:read'] });
    const client = await open({ authToken: token, header: bearer(token) });
    await expect(client.send('whoami')).resolves.toMatchObject({ event: 'exception', data: { code: 'BAD_REQUEST' } });
  });

  it('should refuse an auth.token that is not a string with BAD_REQUEST', async () => {
    const client = await open({ authToken: { token: 'x' } });
    await expect(client.send('whoami')).resolves.toMatchObject({ event: 'exception', data: { code: 'BAD_REQUEST' } });
  });
});

describe('a ws gateway that does not call rememberHandshake', () => {
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    ({ app, url } = await startGatewayApp('ws', issuer, ForgetfulGateway));
  });

  afterAll(async () => {
    await app.close();
  });

  it('should refuse protected messages with UNAUTHENTICATED, even with a valid token in the upgrade request', async () => {
    const client = await connect('ws', url, { header: susan() });
    try {
      await expect(client.send('whoami')).resolves.toEqual({ event: 'exception', data: { code: 'UNAUTHENTICATED', message: 'Bearer access token required' } });
    } finally {
      client.close();
    }
  });
});
