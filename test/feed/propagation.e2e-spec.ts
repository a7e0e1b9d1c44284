import { FIRST_DATABASE_TIMEOUT_MS } from '../support/embedded-postgres';
import { feedBackends, type SharedDatabase } from './support/backends';
import { FeedInstance, notePolicy, requestUntil, timed, type Answer } from './support/feed-instance';

jest.setTimeout(FIRST_DATABASE_TIMEOUT_MS);

/** The freshness promise: a change reaches every instance as fast as NOTIFY delivers it. Far below the TTL. */
const PROPAGATION_BOUND_MS = 1_000;
/** So long that only the change feed can explain a fast deny (the TTL and the revision poll never fire in a test). */
const TTL_MS = 60_000;
const POLL_MS = 3_600_000;
const ROUNDS = 5;
const REVOKE = '/policies/note/subjects/susan/permissions/CanRead';

/**
 * Three app instances in this process, each with its own PostgresPolicyStore (its own pool and LISTEN connection
 * on a server; its own driver over one PGlite), the real guard and real signed tokens. The admin API is mounted on
 * instance 1. A fourth instance whose listener drops every notification is the control: its warm cache keeps
 * allowing, which shows the others deny because the feed told them, not because their cache was cold.
 */
describe.each(feedBackends())('three instances on one database: $name', ({ open }) => {
  let database: SharedDatabase;
  let instances: FeedInstance[] = [];
  let control: FeedInstance;

  beforeAll(async () => {
    database = await open('propagation');
    const storeOptions = { pollIntervalMs: POLL_MS };
    // The admin module creates policy `authz` on instance 1's first start; the others find it there.
    const first = await FeedInstance.start('instance 1 (Express, admin API)', { adapter: 'express', admin: true, ttlMs: TTL_MS, store: await database.openStore(storeOptions) });
    instances = [first];
    instances.push(await FeedInstance.start('instance 2 (Fastify)', { adapter: 'fastify', ttlMs: TTL_MS, store: await database.openStore(storeOptions) }));
    instances.push(await FeedInstance.start('instance 3 (Express)', { adapter: 'express', ttlMs: TTL_MS, store: await database.openStore(storeOptions) }));
    control = await FeedInstance.start('control (listener deaf)', { adapter: 'fastify', ttlMs: TTL_MS, store: await database.openStore({ ...storeOptions, deaf: true }) });
    await first.admin('put', '/policies/note', notePolicy).expect(200);
  });

  afterAll(async () => {
    for (const instance of [...instances, control]) await instance?.close();
    await database?.dispose();
  });

  it('should deny on every instance within 1000 ms of a revoke and allow again as fast after the grant, through LISTEN alone', async () => {
    const [first] = instances;
    // Warm every decision cache: from now on each instance answers susan from memory for a minute.
    for (const instance of [...instances, control]) {
      await instance.read('susan').expect(200);
      expect(instance.policies.rememberedCount).toBeGreaterThan(0);
    }

    const delays: number[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const revoked = await timed(() => first.admin('delete', REVOKE));
      expect(revoked.status).toBe(204);
      const denied = await Promise.all(instances.map((instance) => requestUntil(() => instance.read('susan'), 403, [200], 3 * PROPAGATION_BOUND_MS, `${instance.name}, round ${round}`)));
      delays.push(...checkDelays(revoked, denied));
      // The writing instance forgot before the admin API answered: its very first request is denied.
      expect(denied[0]).toHaveLength(1);
      // The control still believes the revoked grant from its warm cache: without the feed, nothing else would have.
      await control.read('susan').expect(200);

      const granted = await timed(() => first.admin('put', REVOKE));
      expect(granted.status).toBe(204);
      const allowed = await Promise.all(instances.map((instance) => requestUntil(() => instance.read('susan'), 200, [403], 3 * PROPAGATION_BOUND_MS, `${instance.name}, round ${round}`)));
      delays.push(...checkDelays(granted, allowed));
      expect(allowed[0]).toHaveLength(1);
    }
    expect(delays).toHaveLength(ROUNDS * 2 * instances.length);
  });

  /** Each instance's delay from the admin API's answer to its first changed answer; each within the bound. */
  function checkDelays(change: Answer, answers: Answer[][]): number[] {
    return answers.map((list) => {
      const delay = list[list.length - 1].answeredAt - change.answeredAt;
      expect(delay).toBeLessThan(PROPAGATION_BOUND_MS);
      return delay;
    });
  }
});
