import type { ExecutionContext } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import { RpcException } from '@nestjs/microservices';
import request from 'supertest';
import { AuthzGuard, AuthzModule, InMemoryPolicyStore, InvalidTokenException, MissingCredentialsException } from 'nestjs-authz';
import { TestTokenIssuer } from 'nestjs-authz/testing';
import { rpcTransport } from '../../libs/authz/src/context/rpc-call';
import { NOTE_POLICY, NotesHttpController, NotesRpcController } from './fixtures/rpc/notes-rpc.controller';
import { send, startHybrid, startMicroservice, type RpcHarness } from './fixtures/rpc/rpc-app';

// The real guard (APP_GUARD) on @MessagePattern handlers of a TCP microservice, with real RS256 signatures.

const issuer = TestTokenIssuer.create();
const bearer = (claims: Parameters<TestTokenIssuer['sign']>[0]) => `Bearer ${issuer.sign(claims)}`;
const reader = () => bearer({ sub: 'susan', scopes: ['notes:read'] });

/** A store whose reads fail, as a database that is down. */
class DownStore extends InMemoryPolicyStore {
  override async grantsFor(): Promise<never> {
    throw new Error('connection refused');
  }
}

function appMetadata(policyOptions: Parameters<TestTokenIssuer['moduleOptions']>[0]) {
  return {
    imports: [AuthzModule.forRoot(issuer.moduleOptions({ defaultPolicy: 'note', ...policyOptions }))],
    controllers: [NotesRpcController],
    providers: [{ provide: APP_GUARD, useClass: AuthzGuard }],
  };
}

describe('AuthzGuard on a TCP microservice', () => {
  let rpc: RpcHarness;
  beforeAll(async () => {
    rpc = await startMicroservice(appMetadata({ policies: { note: NOTE_POLICY } }));
  });
  afterAll(() => rpc.close());

  describe('when the payload carries a valid token with the scope and the permission', () => {
    it('should answer with the data, the identity reaching the handler through @CurrentIdentity()', async () => {
      const answer = await send(rpc.client, 'notes.list', { authorization: reader() });
      expect(answer.error).toBeUndefined();
      expect(answer.data).toEqual({ subject: 'susan', notes: [{ id: 'n1', title: 'First' }] });
    });

    it('should hand @CurrentIdentity(key) one field and leave the rest of the payload to the handler', async () => {
      const answer = await send(rpc.client, 'notes.whoami', { authorization: reader(), echo: 'hi' });
      expect(answer.data).toEqual({ subject: 'susan', echo: 'hi' });
    });

    it('should keep identities apart when messages from two subjects are in flight at once', async () => {
      const other = bearer({ sub: 'bob', scopes: ['notes:read'] });
      const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => send(rpc.client, 'notes.whoami', { authorization: i % 2 ? other : reader(), echo: i })));
      answers.forEach((answer, i) => expect(answer.data).toEqual({ subject: i % 2 ? 'bob' : 'susan', echo: i }));
    });
  });

  describe('when the token is missing or unusable', () => {
    it('should refuse a payload without authorization with UNAUTHENTICATED and no data', async () => {
      const answer = await send(rpc.client, 'notes.list', { echo: 1 });
      expect(answer.data).toBeUndefined();
      expect(answer.error).toEqual({ status: 401, code: 'UNAUTHENTICATED', message: 'Bearer access token required' });
    });

    it.each([['a string', 'Bearer abc'], ['a number', 42], ['an array', [{ authorization: 'x' }]]])('should refuse a payload that is %s (no token) with UNAUTHENTICATED', async (_name, payload) => {
      const answer = await send(rpc.client, 'notes.list', payload);
      expect(answer.error).toMatchObject({ status: 401, code: 'UNAUTHENTICATED' });
    });

    it('should refuse a token from another key with UNAUTHENTICATED', async () => {
      const foreign = TestTokenIssuer.create().sign({ sub: 'susan', scopes: ['notes:read'] });
      const answer = await send(rpc.client, 'notes.list', { authorization: `Bearer ${foreign}` });
      expect(answer.error).toMatchObject({ status: 401, code: 'UNAUTHENTICATED' });
      expect(answer.data).toBeUndefined();
    });

    it('should refuse an expired token with UNAUTHENTICATED', async () => {
      const answer = await send(rpc.client, 'notes.list', { authorization: bearer({ sub: 'susan', scopes: ['notes:read'], expiresIn: -60 }) });
      expect(answer.error).toMatchObject({ status: 401, code: 'UNAUTHENTICATED' });
    });

    it('should refuse a malformed authorization value with BAD_REQUEST', async () => {
      const answer = await send(rpc.client, 'notes.list', { authorization: 'Bearer a b' });
      expect(answer.error).toMatchObject({ status: 400, code: 'BAD_REQUEST' });
    });
  });

  describe('when the token lacks a scope', () => {
    it('should refuse with FORBIDDEN naming the scope', async () => {
      const answer = await send(rpc.client, 'notes.create', { authorization: reader() });
      expect(answer.data).toBeUndefined();
      expect(answer.error).toEqual({
        status: 403,
        code: 'FORBIDDEN',
        message: 'The token lacks the scope(s): notes:write',
        requiredScopes: ['notes:write'],
      });
    });
  });

  describe('when the policy denies', () => {
    it('should refuse with FORBIDDEN naming the policy and the missing permission', async () => {
      const answer = await send(rpc.client, 'notes.purge', { authorization: reader() });
      expect(answer.data).toBeUndefined();
      expect(answer.error).toEqual({
        status: 403,
        code: 'FORBIDDEN',
        message: "Policy 'note' does not grant: CanPurge",
        policy: 'note',
        missingPermissions: ['CanPurge'],
      });
    });

    it('should read @Resource() from the payload (request.body) and name the resource', async () => {
      const answer = await send(rpc.client, 'notes.delete', { authorization: reader(), id: 'n1' });
      expect(answer.error).toMatchObject({ status: 403, code: 'FORBIDDEN', policy: 'note', missingPermissions: ['CanDelete'], resource: 'n1' });
    });
  });

  describe('when the handler is @Public()', () => {
    it('should answer without a token, with no identity', async () => {
      expect(await send(rpc.client, 'health', {})).toEqual({ data: { status: 'ok', identity: null } });
      expect(await send(rpc.client, 'health', 'ping')).toEqual({ data: { status: 'ok', identity: null } });
    });
  });

  describe('when the token comes in the packet metadata (Nest 12 TCP, setOnDispatchHook)', () => {
    afterEach(() => rpc.client.setOnDispatchHook(undefined as never));

    it('should accept it, and refuse it with BAD_REQUEST when the payload carries one too', async () => {
      const token = reader();
      rpc.client.setOnDispatchHook((packet) => {
        packet.metadata = { authorization: token };
      });
      expect((await send(rpc.client, 'notes.list', {})).data).toMatchObject({ subject: 'susan' });
      expect((await send(rpc.client, 'notes.list', { authorization: token })).error).toMatchObject({ status: 400, code: 'BAD_REQUEST' });
    });
  });
});

describe('AuthzGuard on a TCP microservice whose policy store is down', () => {
  let rpc: RpcHarness;
  beforeAll(async () => {
    rpc = await startMicroservice(appMetadata({ policyStore: new DownStore({ note: NOTE_POLICY }) }));
  });
  afterAll(() => rpc.close());

  it('should answer with SERVICE_UNAVAILABLE, never with the data', async () => {
    const answer = await send(rpc.client, 'notes.list', { authorization: reader() });
    expect(answer.data).toBeUndefined();
    expect(answer.error).toEqual({ status: 503, code: 'SERVICE_UNAVAILABLE', message: "Policy 'note' could not be evaluated; try again later", policy: 'note', retryAfter: 5 });
  });

  it('should still check the token first', async () => {
    expect((await send(rpc.client, 'notes.list', {})).error).toMatchObject({ code: 'UNAUTHENTICATED' });
  });
});

describe('AuthzGuard on a hybrid app (HTTP and TCP through connectMicroservice with inheritAppConfig)', () => {
  let hybrid: Awaited<ReturnType<typeof startHybrid>>;
  beforeAll(async () => {
    hybrid = await startHybrid({ ...appMetadata({ policies: { note: NOTE_POLICY } }), controllers: [NotesRpcController, NotesHttpController] });
  });
  afterAll(() => hybrid.close());

  it('should protect the HTTP routes with RFC 6750 answers', async () => {
    const refused = await request(hybrid.app.getHttpServer()).get('/notes').expect(401);
    expect(refused.headers['www-authenticate']).toBe('Bearer realm="test-api"');
    await request(hybrid.app.getHttpServer()).get('/notes').set('authorization', reader()).expect(200, { subject: 'susan', notes: [{ id: 'n1', title: 'First' }] });
    await request(hybrid.app.getHttpServer()).get('/notes/health').expect(200);
  });

  it('should protect the message handlers with the same guard', async () => {
    expect(await send(hybrid.client, 'notes.list', { authorization: reader() })).toEqual({ data: { subject: 'susan', notes: [{ id: 'n1', title: 'First' }] } });
    expect((await send(hybrid.client, 'notes.list', {})).error).toMatchObject({ status: 401, code: 'UNAUTHENTICATED' });
    expect((await send(hybrid.client, 'notes.purge', { authorization: reader() })).error).toMatchObject({ code: 'FORBIDDEN', missingPermissions: ['CanPurge'] });
  });
});

// Nest's behaviour, pinned here because docs/transports.md warns of it: connectMicroservice() without
// { inheritAppConfig: true } gives the microservice an empty app config, and APP_GUARD never sees its messages.
describe('a hybrid app connected without inheritAppConfig', () => {
  let hybrid: Awaited<ReturnType<typeof startHybrid>>;
  beforeAll(async () => {
    hybrid = await startHybrid({ ...appMetadata({ policies: { note: NOTE_POLICY } }), controllers: [NotesRpcController, NotesHttpController] }, { inheritAppConfig: false });
  });
  afterAll(() => hybrid.close());

  it('should still guard HTTP but leave the message handlers unguarded (why the docs require inheritAppConfig)', async () => {
    await request(hybrid.app.getHttpServer()).get('/notes').expect(401);
    expect(await send(hybrid.client, 'notes.create', {})).toEqual({ data: { created: true } });
  });
});

describe('the rpc transport mapping', () => {
  const contextOf = (data: unknown, rpcContext: unknown): ExecutionContext => {
    const host = new ExecutionContextHost([data, rpcContext]);
    host.setType('rpc');
    return host;
  };

  it('should give the same request object for the same payload, and a new one for another', () => {
    const data = { authorization: 'Bearer abc' };
    const first = rpcTransport.request(contextOf(data, {}));
    expect(rpcTransport.request(contextOf(data, {}))).toBe(first);
    expect(rpcTransport.request(contextOf({ ...data }, {}))).not.toBe(first);
    expect(first.headers.authorization).toBe('Bearer abc');
  });

  it('should read NATS-style headers (getHeaders().get) and gRPC-style Metadata (get returning a list)', () => {
    const nats = { getHeaders: () => ({ get: (name: string) => (name === 'authorization' ? 'Bearer nats' : '') }) };
    const grpc = { getMap: () => ({}), get: (name: string) => (name === 'authorization' ? ['Bearer grpc'] : []) };
    const grpcTwice = { getMap: () => ({}), get: () => ['Bearer one', 'Bearer two'] };
    expect(rpcTransport.request(contextOf({}, nats)).headers.authorization).toBe('Bearer nats');
    expect(rpcTransport.request(contextOf({}, grpc)).headers.authorization).toBe('Bearer grpc');
    expect(rpcTransport.request(contextOf({}, grpcTwice)).headers.authorization).toEqual(['Bearer one', 'Bearer two']);
    expect(rpcTransport.request(contextOf({}, { getHeaders: () => ({ get: () => '' }) })).headers.authorization).toBeUndefined();
  });

  it('should ignore authorization values that are no strings, and metadata when the payload is no object', () => {
    expect(rpcTransport.request(contextOf({ authorization: { forged: true } }, {})).headers.authorization).toBeUndefined();
    expect(rpcTransport.request(contextOf('text', { getMetadata: () => ({ authorization: 'Bearer x' }) })).headers.authorization).toBeUndefined();
  });

  it('should refuse with an RpcException whose error is the refusal object, and set no headers', () => {
    const call = rpcTransport.call(contextOf({}, {}), { headers: {} }, {} as never);
    expect(call.queryTokens).toBe(false);
    expect(() => call.setHeader('WWW-Authenticate', 'Bearer')).not.toThrow();
    const refused = call.refuse(new MissingCredentialsException());
    expect(refused).toBeInstanceOf(RpcException);
    expect((refused as RpcException).getError()).toEqual({ status: 401, code: 'UNAUTHENTICATED', message: 'Bearer access token required' });
    expect(((call.refuse(new InvalidTokenException('The token has expired')) as RpcException).getError() as { message: string }).message).toBe('The token has expired');
  });
});
