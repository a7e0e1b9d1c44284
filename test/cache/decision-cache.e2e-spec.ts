import { TestTokenIssuer } from 'nestjs-authz/testing';
import type { INestApplication } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import request from 'supertest';
import { AuthzGuard, AuthzModule, DefaultPolicyService, InMemoryPolicyStore, PolicyStore, type AuthzModuleOptions, type PolicyDocuments } from 'nestjs-authz';
import { FixtureController, fixturePolicies } from '../fixtures/notes-fixture.controller';
import { ADAPTERS, createApp } from '../support/app';
import { JwksServer } from '../support/jwks-server';
import { claims, makeKey, signJws } from '../support/signing';
import { configFor, identity, ObservablePolicyStore } from './support/cache-fixture';

/**
 * The decision cache of DefaultPolicyService (answers, and the policy documents they are derived from): a bounded
 * TTL, and the invalidation hook a policy store calls (`PolicyStore.onChange`; InMemoryPolicyStore.replace() calls it). DefaultPolicyService reads time from
 * `Date.now`, so the TTL tests move a fake Date (only Date: timers and promises stay real).
 */
const notePolicy = (subjects: Record<string, { roles: string[] }>): PolicyDocuments => ({ note: { roles: { reader: ['CanRead'] }, subjects } });
const susanReads = notePolicy({ susan: { roles: ['reader'] } });
const nobodyReads = notePolicy({});

/** Fakes `Date` only, starting at `now`: timers, microtasks and promises stay real. */
function fakeDateOnly(now: number): void {
  jest.useFakeTimers({
    now,
    doNotFake: [
      'hrtime', 'nextTick', 'performance', 'queueMicrotask', 'requestAnimationFrame', 'cancelAnimationFrame', 'requestIdleCallback',
      'cancelIdleCallback', 'setImmediate', 'clearImmediate', 'setInterval', 'clearInterval', 'setTimeout', 'clearTimeout',
    ],
  });
}

async function policyService(store: PolicyStore, decisionCache: AuthzModuleOptions['decisionCache']): Promise<DefaultPolicyService> {
  const config = await configFor({ issuer: 'https://issuer.test/', audience: 'notes-api', jwks: TestTokenIssuer.create().jwks, decisionCache });
  return new DefaultPolicyService(store, config);
}

describe('decision cache (DefaultPolicyService)', () => {
  const susan = identity('susan');

  afterEach(() => {
    jest.useRealTimers();
  });

  it('should answer from memory for ttlMs, then ask the store again', async () => {
    fakeDateOnly(1_700_000_000_000);
    const store = new ObservablePolicyStore(susanReads);
    const policies = await policyService(store, { ttlMs: 5_000 });
    await expect(policies.hasPermission('note', susan, 'CanRead')).resolves.toBe(true);
    // A grant revoked without notice (a store that cannot notify) lives on at most ttlMs.
    store.documents = nobodyReads;
    jest.setSystemTime(1_700_000_000_000 + 4_999);
    await expect(policies.hasPermission('note', susan, 'CanRead')).resolves.toBe(true);
    expect(store.reads).toBe(1);
    jest.setSystemTime(1_700_000_000_000 + 5_000);
    await expect(policies.hasPermission('note', susan, 'CanRead')).resolves.toBe(false);
    expect(store.reads).toBe(2);
  });

  it('should forget at once when InMemoryPolicyStore.replace() changes the grants, whatever the TTL', async () => {
    const store = new InMemoryPolicyStore(susanReads);
    const policies = await policyService(store, { ttlMs: 3_600_000 });
    await expect(policies.hasPermission('note', susan, 'CanRead')).resolves.toBe(true);
    await expect(policies.hasPermission('note', identity('alice'), 'CanRead')).resolves.toBe(false);
    store.replace(notePolicy({ alice: { roles: ['reader'] } }));
    await expect(policies.hasPermission('note', susan, 'CanRead')).resolves.toBe(false);
    await expect(policies.hasPermission('note', identity('alice'), 'CanRead')).resolves.toBe(true);
  });

  it('should not remember the answer of a lookup that was under way when the store reported a change', async () => {
    const store = new ObservablePolicyStore(susanReads);
    const policies = await policyService(store, { ttlMs: 3_600_000 });
    let release!: () => void;
    store.gate = new Promise<void>((resolve) => (release = resolve));
    const during = policies.hasPermission('note', susan, 'CanRead');
    store.documents = nobodyReads;
    store.notify({ policy: 'note' });
    store.gate = undefined;
    release();
    await during;
    await expect(policies.hasPermission('note', susan, 'CanRead')).resolves.toBe(false);
    expect(store.reads).toBe(2);
  });

  it('should hold at most maxEntries decisions, making room by dropping older ones', async () => {
    const store = new ObservablePolicyStore(susanReads);
    const policies = await policyService(store, { maxEntries: 2 });
    for (const subject of ['susan', 'alice', 'bob', 'carol', 'dave']) await policies.hasPermission('note', identity(subject), 'CanRead');
    expect(policies.rememberedCount).toBe(2);
    expect(policies.cachedDecision('note', identity('dave'), 'CanRead')).toBe(false);
    expect(policies.rememberedCount).toBe(2);
  });

  it("should drop only the changed subject's answers when the store reports a change to one subject", async () => {
    const store = new ObservablePolicyStore(notePolicy({ susan: { roles: ['reader'] }, alice: { roles: ['reader'] } }));
    const policies = await policyService(store, { ttlMs: 3_600_000 });
    await policies.hasPermission('note', susan, 'CanRead');
    await policies.hasPermission('note', identity('alice'), 'CanRead');
    await policies.hasPermission('note', identity('alice', ['notes-admin']), 'CanRead');
    store.documents = notePolicy({ susan: { roles: ['reader'] } });
    store.notify({ policy: 'note', subject: 'alice' });
    expect(policies.cachedDecision('note', susan, 'CanRead')).toBe(true);
    expect(policies.cachedDecision('note', identity('alice'), 'CanRead')).toBeUndefined();
    expect(policies.cachedDecision('note', identity('alice', ['notes-admin']), 'CanRead')).toBeUndefined();
    await expect(policies.hasPermission('note', identity('alice'), 'CanRead')).resolves.toBe(false);
    expect(store.reads).toBe(4);
  });

  it('should keep a subject whose name starts like another apart when dropping one subject', async () => {
    const store = new ObservablePolicyStore(notePolicy({ al: { roles: ['reader'] }, alice: { roles: ['reader'] } }));
    const policies = await policyService(store, { ttlMs: 3_600_000 });
    await policies.hasPermission('note', identity('al'), 'CanRead');
    await policies.hasPermission('note', identity('alice'), 'CanRead');
    store.notify({ policy: 'note', subject: 'al' });
    expect(policies.cachedDecision('note', identity('al'), 'CanRead')).toBeUndefined();
    expect(policies.cachedDecision('note', identity('alice'), 'CanRead')).toBe(true);
  });

  it("should drop every answer of the policy, and only that policy's, on a change without a subject", async () => {
    const store = new ObservablePolicyStore({ ...susanReads, other: susanReads.note });
    const policies = await policyService(store, { ttlMs: 3_600_000 });
    await policies.hasPermission('note', susan, 'CanRead');
    await policies.hasPermission('other', susan, 'CanRead');
    store.notify({ policy: 'note' });
    expect(policies.cachedDecision('note', susan, 'CanRead')).toBeUndefined();
    expect(policies.cachedDecision('other', susan, 'CanRead')).toBe(true);
    store.notify({});
    expect(policies.cachedDecision('other', susan, 'CanRead')).toBeUndefined();
  });

  it('should keep caching while the change feed has been down for less than ttlMs, and stop once it has been down longer', async () => {
    fakeDateOnly(1_700_000_000_000);
    const store = new ObservablePolicyStore(susanReads);
    const policies = await policyService(store, { ttlMs: 5_000 });
    store.feedDown = 1_700_000_000_000;
    jest.setSystemTime(1_700_000_000_000 + 4_999);
    await policies.hasPermission('note', susan, 'CanRead');
    expect(policies.cachedDecision('note', susan, 'CanRead')).toBe(true);
    store.notify({});
    jest.setSystemTime(1_700_000_000_000 + 5_000);
    await policies.hasPermission('note', susan, 'CanRead');
    await policies.hasPermission('note', susan, 'CanRead');
    expect(policies.cachedDecision('note', susan, 'CanRead')).toBeUndefined();
    expect(store.reads).toBe(3);
    // The feed is back (the store flushed on reconnect): answers are remembered again.
    store.feedDown = undefined;
    await policies.hasPermission('note', susan, 'CanRead');
    expect(policies.cachedDecision('note', susan, 'CanRead')).toBe(true);
  });

  it('should ask the store for every decision with decisionCache: false', async () => {
    const store = new ObservablePolicyStore(susanReads);
    const policies = await policyService(store, false);
    await expect(policies.hasPermission('note', susan, 'CanRead')).resolves.toBe(true);
    await expect(policies.hasPermission('note', susan, 'CanRead')).resolves.toBe(true);
    store.documents = nobodyReads;
    await expect(policies.hasPermission('note', susan, 'CanRead')).resolves.toBe(false);
    expect(store.reads).toBe(3);
  });
});

describe.each(ADAPTERS)('decision cache behind the guard (%s)', (adapter) => {
  const AUDIENCE = 'notes-api';
  const key = makeKey('key-1');
  let jwks: JwksServer;
  let app: INestApplication;

  beforeAll(async () => {
    jwks = await new JwksServer().start();
    jwks.keys = [key.jwk];
    app = await createApp(adapter, {
      imports: [AuthzModule.forRoot({ issuer: jwks.issuer, audience: AUDIENCE, jwksUri: jwks.jwksUri, defaultPolicy: 'note', policies: fixturePolicies, decisionCache: { ttlMs: 3_600_000 } })],
      controllers: [FixtureController],
      providers: [{ provide: APP_GUARD, useClass: AuthzGuard }],
    });
  });

  afterAll(async () => {
    await app.close();
    await jwks.stop();
  });

  it("should decide the next request on the new grants as soon as the module's policy store is replaced", async () => {
    const token = signJws({ alg: 'RS256', typ: 'at+jwt', kid: key.kid }, claims(jwks.issuer, AUDIENCE), key.privateKey);
    const getNotes = () => request(app.getHttpServer()).get('/notes').auth(token, { type: 'bearer' });
    await getNotes().expect(200);
    const store = app.get(PolicyStore) as InMemoryPolicyStore;
    store.replace({ ...fixturePolicies, note: { ...fixturePolicies.note, subjects: {} } });
    const denied = await getNotes().expect(403);
    expect(denied.body).toMatchObject({ policy: 'note' });
    store.replace(fixturePolicies);
    await getNotes().expect(200);
  });
});
