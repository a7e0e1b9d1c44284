import type { INestApplication } from '@nestjs/common';
import { createClient, type Client } from 'graphql-ws';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { TestTokenIssuer } from 'nestjs-authz/testing';
import WebSocket from 'ws';
import { apolloApp, mercuriusApp } from './fixtures/graphql/apps';
import { ItemEvents } from './fixtures/graphql/items';

// Mercurius loads @fastify/static, whose content-disposition 3 is ESM only, which jest on Node 20 cannot require (and
// does not transform in a nested node_modules). Only file downloads use it: the CommonJS 2.x of the repo stands in.
jest.mock('../../node_modules/@fastify/static/node_modules/content-disposition', () => ({ create: jest.requireActual('content-disposition') }));

// AuthzGuard on GraphQL resolvers (issue 11): Apollo on Express and Mercurius on Fastify, through the real guard and
// real signatures; subscriptions over graphql-ws with the token in connectionParams.

const issuer = TestTokenIssuer.create();
const token = (sub: string, scopes: string[], expiresIn?: number) => issuer.sign({ sub, scopes, ...(expiresIn === undefined ? {} : { expiresIn }) });
const SUSAN = () => token('susan', ['items:read', 'items:write', 'items:secret']);

interface GqlAnswer {
  status: number;
  headers: Record<string, string>;
  body: { data?: Record<string, unknown> | null; errors?: { message: string; path?: (string | number)[]; extensions: Record<string, unknown> }[] };
}

async function gql(app: INestApplication, query: string, bearer?: string, variables?: Record<string, unknown>): Promise<GqlAnswer> {
  let req = request(app.getHttpServer()).post('/graphql').set('content-type', 'application/json');
  if (bearer !== undefined) req = req.set('authorization', `Bearer ${bearer}`);
  const res = await req.send({ query, variables });
  return { status: res.status, headers: res.headers as Record<string, string>, body: res.body };
}

const DRIVERS = [
  ['Apollo on Express', (): Promise<INestApplication> => apolloApp(issuer)],
  ['Mercurius on Fastify', (): Promise<INestApplication> => mercuriusApp(issuer)],
] as const;

describe.each(DRIVERS)('AuthzGuard on GraphQL (%s)', (driver, create) => {
  let app: INestApplication;
  beforeAll(async () => {
    app = await create();
  });
  afterAll(() => app.close());

  describe('when the token is valid and grants the query', () => {
    it('should answer the data', async () => {
      const res = await gql(app, '{ items { id name } }', SUSAN());
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data).toEqual({ items: [{ id: 'item-1', name: 'first' }, { id: 'item-2', name: 'second' }] });
    });

    it('should give the resolver the identity through @CurrentIdentity()', async () => {
      const res = await gql(app, '{ me }', token('rita', ['items:read']));
      expect(res.body.data).toEqual({ me: 'rita:items:read' });
    });

    it('should run a mutation with the identity', async () => {
      const res = await gql(app, 'mutation($input: AddItemInput!) { addItem(input: $input) { name } }', SUSAN(), { input: { name: 'new' } });
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data).toEqual({ addItem: { name: 'new by susan' } });
    });
  });

  describe('when the request has no token', () => {
    it('should refuse with UNAUTHENTICATED and no data, and the bearer challenge', async () => {
      const res = await gql(app, '{ items { id } }');
      expect(res.body.data ?? null).toBeNull();
      expect(res.body.errors).toHaveLength(1);
      expect(res.body.errors![0]).toMatchObject({ message: 'Bearer access token required', path: ['items'], extensions: { code: 'UNAUTHENTICATED' } });
      expect(res.body.errors![0].extensions).not.toHaveProperty('http');
      expect(res.headers['www-authenticate']).toBe('Bearer realm="test-api"');
      expect(res.status).toBe(driver === 'Mercurius on Fastify' ? 401 : 200);
    });

    it('should let a @Public() resolver answer', async () => {
      const res = await gql(app, '{ health }');
      expect(res.body).toEqual({ data: { health: 'ok' } });
    });

    it('should refuse a mutation too', async () => {
      const res = await gql(app, 'mutation { addItem(input: { name: "x" }) { id } }');
      expect(res.body.data ?? null).toBeNull();
      expect(res.body.errors![0].extensions.code).toBe('UNAUTHENTICATED');
    });
  });

  describe('when the token is bad', () => {
    it('should refuse with UNAUTHENTICATED and error="invalid_token"', async () => {
      const foreign = TestTokenIssuer.create().sign({ sub: 'susan', scopes: ['items:read'] });
      const res = await gql(app, '{ items { id } }', foreign);
      expect(res.body.errors![0].extensions).toMatchObject({ code: 'UNAUTHENTICATED', error: 'invalid_token' });
      expect(res.headers['www-authenticate']).toContain('error="invalid_token"');
    });

    it('should refuse a broken Authorization header with BAD_REQUEST', async () => {
      const res = await request(app.getHttpServer()).post('/graphql').set('authorization', 'Bearer a b').send({ query: '{ items { id } }' });
      expect(res.body.errors[0].extensions).toMatchObject({ code: 'BAD_REQUEST', error: 'invalid_request' });
    });
  });

  describe('when the token lacks the scope', () => {
    it('should refuse with FORBIDDEN naming the scope', async () => {
      const res = await gql(app, '{ items { id } }', token('susan', ['other']));
      expect(res.body.data ?? null).toBeNull();
      expect(res.body.errors![0].extensions).toMatchObject({ code: 'FORBIDDEN', error: 'insufficient_scope', requiredScopes: ['items:read'] });
      expect(res.headers['www-authenticate']).toContain('scope="items:read"');
    });

    it('should guard field resolvers: the field is null with its error, the rest answers', async () => {
      const res = await gql(app, '{ items { id secret } }', token('susan', ['items:read']));
      expect(res.body.data).toEqual({ items: [{ id: 'item-1', secret: null }, { id: 'item-2', secret: null }] });
      expect(res.body.errors).toHaveLength(2);
      expect(res.body.errors![0]).toMatchObject({ extensions: { code: 'FORBIDDEN', requiredScopes: ['items:secret'] } });
      // Mercurius (graphql-jit) gives list indexes as strings.
      expect(res.body.errors![0].path!.map(String)).toEqual(['items', '0', 'secret']);
    });

    it('should answer the field with the scope', async () => {
      const res = await gql(app, '{ items { id secret } }', SUSAN());
      expect(res.body).toEqual({ data: { items: [{ id: 'item-1', secret: 's1' }, { id: 'item-2', secret: 's2' }] } });
    });
  });

  describe('when the policy denies', () => {
    it('should refuse with FORBIDDEN naming the policy and the permission', async () => {
      const res = await gql(app, '{ items { id } }', token('bob', ['items:read']));
      expect(res.body.data ?? null).toBeNull();
      expect(res.body.errors![0].extensions).toMatchObject({ code: 'FORBIDDEN', policy: 'item', missingPermissions: ['CanRead'] });
      expect(res.body.errors![0].extensions).not.toHaveProperty('requiredScopes');
    });

    it('should name the resource from the arguments with @Resource(), and grant on it', async () => {
      const denied = await gql(app, '{ item(id: "item-1") { id } }', token('bob', ['items:read']));
      expect(denied.body.data).toEqual({ item: null });
      expect(denied.body.errors![0].extensions).toMatchObject({ code: 'FORBIDDEN', policy: 'item', missingPermissions: ['CanRead'], resource: 'item-1' });
      const granted = await gql(app, '{ item(id: "item-2") { id } }', token('bob', ['items:read']));
      expect(granted.body).toEqual({ data: { item: { id: 'item-2' } } });
    });

    it('should refuse a mutation the policy does not grant', async () => {
      const res = await gql(app, 'mutation { addItem(input: { name: "x" }) { id } }', token('rita', ['items:write']));
      expect(res.body.data ?? null).toBeNull();
      expect(res.body.errors![0].extensions).toMatchObject({ code: 'FORBIDDEN', missingPermissions: ['CanWrite'] });
    });
  });

  describe('when the policy fails', () => {
    it('should answer an error, SERVICE_UNAVAILABLE, never data', async () => {
      const res = await gql(app, '{ flaky { id } }', SUSAN());
      expect(res.body.data ?? null).toBeNull();
      expect(res.body.errors![0].extensions).toMatchObject({ code: 'SERVICE_UNAVAILABLE', retryAfter: 5 });
      expect(res.headers['retry-after']).toBe('5');
    });
  });
});

describe('AuthzGuard on GraphQL (Apollo with preserveHttpStatusForExecutionErrors: false)', () => {
  let app: INestApplication;
  beforeAll(async () => {
    app = await apolloApp(issuer, { preserveHttpStatusForExecutionErrors: false });
  });
  afterAll(() => app.close());

  it('should answer the refusal with its HTTP status and challenge', async () => {
    const missing = await gql(app, '{ items { id } }');
    expect(missing.status).toBe(401);
    expect(missing.headers['www-authenticate']).toBe('Bearer realm="test-api"');
    const scope = await gql(app, '{ items { id } }', token('susan', ['other']));
    expect(scope.status).toBe(403);
    expect(scope.body.errors![0].extensions.code).toBe('FORBIDDEN');
  });
});

// Apollo: graphql-ws's server (`subscriptions: { 'graphql-ws': { onConnect } }`); Mercurius: its own, on
// @fastify/websocket (`subscription: { onConnect }`), speaking graphql-transport-ws to the graphql-ws client. Both with
// graphqlWsOnConnect, and the guard reading the token from the connection's parameters per operation.
describe.each(DRIVERS)('GraphQL subscriptions over graphql-ws (%s)', (_driver, create) => {
  let app: INestApplication;
  let url: string;
  const clients: Client[] = [];
  beforeAll(async () => {
    app = await create();
    await app.listen(0, '127.0.0.1');
    url = `ws://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}/graphql`;
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.dispose()));
  });
  afterAll(() => app.close());

  interface Subscribed {
    events: unknown[];
    /** Settles when the subscription ends: with the close event or error, or `complete`. */
    ended: Promise<{ code?: number; reason?: string; errors?: unknown; complete?: true }>;
    firstEvent: Promise<unknown>;
  }

  function subscribe(connectionParams: Record<string, unknown> | undefined, query = 'subscription { itemAdded { id name } }', upgradeHeaders?: Record<string, string>): Subscribed {
    // `upgradeHeaders`: headers on the WebSocket upgrade request itself (which browsers cannot set).
    const webSocketImpl = upgradeHeaders
      ? class extends WebSocket {
          constructor(address: string, protocols?: string | string[]) {
            super(address, protocols, { headers: upgradeHeaders });
          }
        }
      : WebSocket;
    const client = createClient({ url, webSocketImpl, connectionParams, retryAttempts: 0, lazy: true });
    clients.push(client);
    const events: unknown[] = [];
    let onFirst!: (value: unknown) => void;
    const firstEvent = new Promise<unknown>((resolve) => (onFirst = resolve));
    const ended = new Promise<{ code?: number; reason?: string; errors?: unknown; complete?: true }>((resolve) => {
      client.subscribe(
        { query },
        {
          next: (value) => {
            events.push(value);
            onFirst(value);
          },
          error: (error) => {
            const event = error as { code?: number; reason?: string };
            resolve(typeof event?.code === 'number' ? { code: event.code, reason: event.reason } : { errors: error });
          },
          complete: () => resolve({ complete: true }),
        },
      );
    });
    return { events, ended, firstEvent };
  }

  /** Waits until the server has a subscriber (the guard let the operation through), then publishes a mutation. */
  async function addItemWhenSubscribed(name: string): Promise<void> {
    const events = app.get(ItemEvents);
    for (let tries = 0; events.subscribers === 0 && tries < 200; tries++) await new Promise((resolve) => setTimeout(resolve, 10));
    const res = await gql(app, `mutation { addItem(input: { name: "${name}" }) { id } }`, SUSAN());
    expect(res.body.errors).toBeUndefined();
  }

  it('should refuse the connection without a token (4401)', async () => {
    const sub = subscribe(undefined);
    await expect(sub.ended).resolves.toMatchObject({ code: 4401, reason: expect.stringContaining('Bearer access token required') });
    expect(sub.events).toEqual([]);
  });

  it('should refuse the connection with a bad token (4401)', async () => {
    const foreign = TestTokenIssuer.create().sign({ sub: 'susan', scopes: ['items:read'] });
    const sub = subscribe({ authorization: `Bearer ${foreign}` });
    await expect(sub.ended).resolves.toMatchObject({ code: 4401, reason: expect.stringContaining('Unauthorized') });
  });

  it('should deliver events with a good token (authorization or Authorization)', async () => {
    const lower = subscribe({ authorization: `Bearer ${SUSAN()}` });
    await addItemWhenSubscribed('one');
    await expect(lower.firstEvent).resolves.toEqual({ data: { itemAdded: { id: expect.any(String), name: 'one by susan' } } });
    const upper = subscribe({ Authorization: `Bearer ${token('rita', ['items:read'])}` });
    const events = app.get(ItemEvents);
    for (let tries = 0; events.subscribers < 2 && tries < 200; tries++) await new Promise((resolve) => setTimeout(resolve, 10));
    await addItemWhenSubscribed('two');
    await expect(upper.firstEvent).resolves.toEqual({ data: { itemAdded: { id: expect.any(String), name: 'two by susan' } } });
  });

  it('should check scopes and permissions per operation: a connected client without the scope gets FORBIDDEN', async () => {
    const sub = subscribe({ authorization: `Bearer ${token('susan', ['other'])}` });
    const end = await sub.ended;
    const errors = (end.errors ?? (sub.events[0] as { errors?: unknown })?.errors) as { extensions: Record<string, unknown> }[];
    expect(errors[0].extensions).toMatchObject({ code: 'FORBIDDEN', requiredScopes: ['items:read'] });
  });

  it("should take the credential from connectionParams, never the upgrade request's Authorization header", async () => {
    const sub = subscribe({ authorization: `Bearer ${token('susan', ['other'])}` }, undefined, { authorization: `Bearer ${SUSAN()}` });
    const end = await sub.ended;
    const errors = (end.errors ?? (sub.events[0] as { errors?: unknown })?.errors) as { extensions: Record<string, unknown> }[];
    expect(errors[0].extensions).toMatchObject({ code: 'FORBIDDEN', requiredScopes: ['items:read'] });
    const refused = subscribe(undefined, undefined, { authorization: `Bearer ${SUSAN()}` });
    await expect(refused.ended).resolves.toMatchObject({ code: 4401 });
  });

  it('should refuse an operation the policy denies with FORBIDDEN naming the permission', async () => {
    const sub = subscribe({ authorization: `Bearer ${token('bob', ['items:read'])}` });
    const end = await sub.ended;
    const errors = (end.errors ?? (sub.events[0] as { errors?: unknown })?.errors) as { extensions: Record<string, unknown> }[];
    expect(errors[0].extensions).toMatchObject({ code: 'FORBIDDEN', policy: 'item', missingPermissions: ['CanRead'] });
  });

  it('should close the connection when its token expires', async () => {
    const sub = subscribe({ authorization: `Bearer ${token('susan', ['items:read'], 2)}` });
    await addItemWhenSubscribed('before expiry');
    await sub.firstEvent;
    await expect(sub.ended).resolves.toMatchObject({ code: 4401, reason: 'Token expired' });
  }, 10_000);
});
