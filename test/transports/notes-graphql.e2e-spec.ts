import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import { createClient, type Client } from 'graphql-ws';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import WebSocket from 'ws';
import { AppModule } from '../../apps/notes/src/app.module';
import { configureNotesApp } from '../../apps/notes/src/configure-app';
import { CLI_CLIENT_ID } from '../../apps/notes/src/local-oidc/demo-users';
import { startLocalOidcProvider, type LocalOidcProvider } from '../../apps/notes/src/local-oidc/local-oidc-provider';
import { stateFileIn } from '../../apps/notes/src/local-oidc/local-oidc-state';
import { requestDemoUserToken } from '../../apps/notes/src/local-oidc/token-request';
import { freshDataDir } from '../support/embedded-postgres';

// The notes app over GraphQL at /graphql: AppModule as `npm start` wires it (with NotesGraphqlModule), against the
// real local oidc-provider and a fresh embedded database.

const AUDIENCE = 'notes-api';
const ALL = ['notes:read', 'notes:write'];

describe('the notes app over GraphQL (Apollo on Express)', () => {
  let app: INestApplication;
  let idp: LocalOidcProvider;
  let data: { dataDir: string; remove(): Promise<void> };
  let url: string;
  const tokens = new Map<string, Promise<string>>();
  const tokenFor = (user: string, scopes = ALL) => {
    const key = `${user} ${scopes.join(' ')}`;
    if (!tokens.has(key)) tokens.set(key, requestDemoUserToken(idp.issuer, idp.clientSecrets[CLI_CLIENT_ID], user, scopes).then((answer) => answer.access_token));
    return tokens.get(key)!;
  };
  const clients: Client[] = [];

  beforeAll(async () => {
    data = await freshDataDir();
    idp = await startLocalOidcProvider({ port: 0, audience: AUDIENCE, stateFile: stateFileIn(data.dataDir) });
    const moduleRef = await Test.createTestingModule({
      imports: [AppModule.register({ authz: { issuer: idp.issuer, audience: AUDIENCE, requireAccessTokenType: true }, database: { dataDir: data.dataDir }, adminSubjects: ['carol'] })],
    }).compile();
    app = moduleRef.createNestApplication<NestExpressApplication>({ bodyParser: false, logger: false });
    configureNotesApp(app);
    await app.listen(0, '127.0.0.1');
    url = `ws://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}/graphql`;
  }, 60_000);

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.dispose()));
    await app?.close();
    await idp?.close();
    await data?.remove();
  });

  async function gql(query: string, user?: string, scopes?: string[], variables?: Record<string, unknown>) {
    let req = request(app.getHttpServer()).post('/graphql').set('content-type', 'application/json');
    if (user !== undefined) req = req.set('authorization', `Bearer ${await tokenFor(user, scopes)}`);
    const res = await req.send({ query, variables });
    return res.body as { data?: Record<string, any> | null; errors?: { message: string; extensions: Record<string, unknown> }[] };
  }

  const CREATE = 'mutation($input: CreateNoteInput!) { createNote(input: $input) { id title body confidential ownerId createdAt updatedAt } }';

  it('should list notes for a reader', async () => {
    const res = await gql('{ notes { id title ownerId } }', 'susan', ['notes:read']);
    expect(res.errors).toBeUndefined();
    expect(Array.isArray(res.data!.notes)).toBe(true);
  });

  it('should refuse without a token: UNAUTHENTICATED, no data', async () => {
    const res = await gql('{ notes { id } }');
    expect(res.data ?? null).toBeNull();
    expect(res.errors![0].extensions.code).toBe('UNAUTHENTICATED');
  });

  it('should refuse a token without the scope: FORBIDDEN naming it', async () => {
    const res = await gql(CREATE, 'alice', ['notes:read'], { input: { title: 't' } });
    expect(res.data ?? null).toBeNull();
    expect(res.errors![0].extensions).toMatchObject({ code: 'FORBIDDEN', requiredScopes: ['notes:write'] });
  });

  it('should refuse what the policy does not grant: FORBIDDEN naming the permission', async () => {
    const res = await gql('{ notes { id } }', 'bob');
    expect(res.data ?? null).toBeNull();
    expect(res.errors![0].extensions).toMatchObject({ code: 'FORBIDDEN', policy: 'note', missingPermissions: ['CanRead'] });
  });

  describe('when alice creates a confidential note', () => {
    let id: string;
    beforeAll(async () => {
      const res = await gql(CREATE, 'alice', ALL, { input: { title: 'plans', body: 'secret', confidential: true } });
      expect(res.errors).toBeUndefined();
      id = res.data!.createNote.id;
      expect(res.data!.createNote).toMatchObject({ title: 'plans', body: 'secret', confidential: true, ownerId: 'alice' });
    });

    it('should let its owner and a confidential reader read it', async () => {
      expect((await gql(`{ note(id: "${id}") { id title } }`, 'alice')).data).toEqual({ note: { id, title: 'plans' } });
      expect((await gql(`{ note(id: "${id}") { id } }`, 'susan', ['notes:read'])).data).toEqual({ note: { id } });
    });

    it('should refuse bob on that note, naming the resource', async () => {
      const res = await gql(`{ note(id: "${id}") { id } }`, 'bob');
      expect(res.data).toEqual({ note: null });
      expect(res.errors![0].extensions).toMatchObject({ code: 'FORBIDDEN', missingPermissions: ['CanRead'], resource: id });
    });

    it('should let only those with CanDelete on it delete it', async () => {
      const denied = await gql(`mutation { deleteNote(id: "${id}") }`, 'susan', ALL);
      expect(denied.data ?? null).toBeNull();
      expect(denied.errors![0].extensions).toMatchObject({ code: 'FORBIDDEN', missingPermissions: ['CanDelete'], resource: id });
      expect((await gql(`mutation { deleteNote(id: "${id}") }`, 'alice')).data).toEqual({ deleteNote: true });
      const gone = await gql(`{ note(id: "${id}") { id } }`, 'alice');
      expect(gone.data).toEqual({ note: null });
      expect(gone.errors![0].extensions.code).not.toBe('FORBIDDEN');
    });
  });

  it('should refuse an invalid input as an error, not data', async () => {
    const res = await gql(CREATE, 'alice', ALL, { input: { title: '' } });
    expect(res.data ?? null).toBeNull();
    expect(res.errors![0].extensions.code).toBe('BAD_USER_INPUT');
  });

  it('should send noteCreated over graphql-ws to a subscriber with a token in connectionParams', async () => {
    const client = createClient({ url, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${await tokenFor('susan', ['notes:read'])}` }, retryAttempts: 0 });
    clients.push(client);
    const first = new Promise<unknown>((resolve, reject) => {
      client.subscribe({ query: 'subscription { noteCreated { title ownerId } }' }, { next: resolve, error: reject, complete: () => reject(new Error('completed')) });
    });
    // Keep creating until the subscription is in place (the first create may come before it).
    let event: unknown;
    for (let tries = 0; event === undefined && tries < 50; tries++) {
      await gql(CREATE, 'alice', ALL, { input: { title: 'hello' } });
      event = await Promise.race([first, new Promise((resolve) => setTimeout(() => resolve(undefined), 100))]);
    }
    expect(event).toEqual({ data: { noteCreated: { title: 'hello', ownerId: 'alice' } } });
  });

  /** A `noteCreated` subscriber: `next()` is its next event. */
  async function noteCreatedSubscriber(user: string, scopes = ['notes:read']) {
    const client = createClient({ url, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${await tokenFor(user, scopes)}` }, retryAttempts: 0 });
    clients.push(client);
    const events: unknown[] = [];
    const waiting: ((event: unknown) => void)[] = [];
    let failed: unknown;
    client.subscribe(
      { query: 'subscription { noteCreated { title confidential ownerId } }' },
      {
        next: (event) => (waiting.length > 0 ? waiting.shift()!(event) : events.push(event)),
        error: (error) => (failed = error ?? new Error('subscription error')),
        complete: () => (failed = new Error('completed')),
      },
    );
    return {
      next: (ms = 2000) =>
        events.length > 0
          ? Promise.resolve(events.shift())
          : failed !== undefined
            ? Promise.reject(failed)
            : new Promise<unknown>((resolve, reject) => {
                const waiter = (event: unknown) => {
                  clearTimeout(timer);
                  resolve(event);
                };
                // A waiter that timed out is removed, so that the next event is not lost on it.
                const timer = setTimeout(() => {
                  waiting.splice(waiting.indexOf(waiter), 1);
                  reject(new Error(`no noteCreated event for ${user} within ${ms} ms`));
                }, ms);
                waiting.push(waiter);
              }),
      pending: () => events.length,
    };
  }

  async function restCreate(user: string, note: { title: string; body?: string; confidential?: boolean }) {
    const res = await request(app.getHttpServer()).post('/notes').set('authorization', `Bearer ${await tokenFor(user, ALL)}`).send(note);
    expect(res.status).toBe(201);
    return res.body as { id: string };
  }

  it('should send noteCreated for a note created over REST (POST /notes) too', async () => {
    const sub = await noteCreatedSubscriber('susan');
    // Keep creating until the subscription is in place (the first create may come before it).
    let event: unknown;
    for (let tries = 0; event === undefined && tries < 50; tries++) {
      await restCreate('alice', { title: 'over rest' });
      event = await sub.next(100).catch(() => undefined);
    }
    expect(event).toEqual({ data: { noteCreated: { title: 'over rest', confidential: false, ownerId: 'alice' } } });
  });

  it('should send a note created over REST only to subscribers who may read it', async () => {
    // alice may read notes, but confidential ones only where she holds a role on them; susan may read them all.
    const alice = await noteCreatedSubscriber('alice');
    const susan = await noteCreatedSubscriber('susan');
    let ready = false;
    for (let tries = 0; !ready && tries < 50; tries++) {
      await restCreate('carol', { title: 'warm-up' });
      ready = (await alice.next(100).then(() => true, () => false)) && (await susan.next(1000).then(() => true, () => false));
    }
    expect(ready).toBe(true);
    // Drain the warm-up events that came after both were subscribed.
    while (alice.pending() > 0) await alice.next();
    while (susan.pending() > 0) await susan.next();
    await restCreate('carol', { title: 'carol only', body: 'secret', confidential: true });
    await restCreate('carol', { title: 'for all' });
    expect(await susan.next()).toEqual({ data: { noteCreated: { title: 'carol only', confidential: true, ownerId: 'carol' } } });
    expect(await susan.next()).toEqual({ data: { noteCreated: { title: 'for all', confidential: false, ownerId: 'carol' } } });
    expect(await alice.next()).toEqual({ data: { noteCreated: { title: 'for all', confidential: false, ownerId: 'carol' } } });
  });

  it('should refuse a graphql-ws connection without a token', async () => {
    const client = createClient({ url, webSocketImpl: WebSocket, retryAttempts: 0 });
    clients.push(client);
    const closed = await new Promise<{ code: number }>((resolve) => client.subscribe({ query: 'subscription { noteCreated { id } }' }, { next: () => {}, error: (error) => resolve(error as { code: number }), complete: () => {} }));
    expect(closed.code).toBe(4401);
  });
});
