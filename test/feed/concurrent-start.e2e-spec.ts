import { PostgresPolicyStore, type PolicyStore } from 'nestjs-authz';
import { MIGRATIONS } from '../../libs/authz/src/store/postgres/migrations';
import { FIRST_DATABASE_TIMEOUT_MS } from '../support/embedded-postgres';
import { feedBackends } from './support/backends';
import { nextChange } from './support/server';

jest.setTimeout(FIRST_DATABASE_TIMEOUT_MS);

const INSTANCES = 3;
/**
 * On the server each round starts on a new, empty schema, so the race is run more than once. PGlite runs one
 * transaction at a time in-process (no race to lose, and a fresh cluster costs seconds): one round.
 */
const ROUNDS = { server: 3, pglite: 1 };

/**
 * Instances of one app deployed together start at once on an empty database. The migrations run under an advisory
 * lock: one instance applies them, the others wait and find nothing to do. Without the lock, concurrent
 * `CREATE SCHEMA IF NOT EXISTS` / `CREATE TABLE` fail with unique violations on the catalogs.
 */
describe.each(feedBackends())('instances starting at once on an empty database: $name', ({ kind, open }) => {
  it('should migrate once, start every instance without error, and give working stores', async () => {
    for (let round = 1; round <= ROUNDS[kind]; round++) {
      const database = await open('start');
      const stores: PolicyStore[] = [];
      try {
        // Drivers first, so that the three opens, not the connects, are what run at the same time.
        const drivers = await Promise.all(Array.from({ length: INSTANCES }, () => database.driver()));
        const opened = await Promise.allSettled(drivers.map((driver) => PostgresPolicyStore.open({ driver, schema: database.schema })));
        stores.push(...opened.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : [])));
        expect(opened.map((result) => (result.status === 'rejected' ? String(result.reason) : 'started'))).toEqual(Array(INSTANCES).fill('started'));
        expect(await database.migrations()).toEqual(MIGRATIONS.map(({ version, name }) => ({ version, name })));

        // Each store works: a write through one is read, and heard, by the others.
        const [first, ...others] = stores;
        const heard = others.map((store) => nextChange(store, (change) => change.policy === 'note', 5_000, 'the first write, on another instance'));
        const { revision } = await first.edit([{ kind: 'put-policy', policy: 'note', document: { roles: { reader: ['CanRead'] }, subjects: { susan: { roles: ['reader'] } } } }], { actor: 'deploy' });
        expect(revision).toBe(1);
        for (const { change } of await Promise.all(heard)) expect(change).toEqual({ policy: 'note', subject: undefined, revision });
        for (const store of others) expect(await store.grantsFor('note', 'susan', [])).toMatchObject({ revision, subjectRoles: ['reader'] });
      } finally {
        for (const store of stores) await store.close();
        await database.dispose();
      }
    }
  });
});
