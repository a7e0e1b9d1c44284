import { PgliteDriver, PostgresPolicyStore, type PolicyChange, type PolicyEdit } from 'nestjs-authz';
import { FIRST_DATABASE_TIMEOUT_MS } from '../support/embedded-postgres';
import { pgliteDatabase } from '../support/postgres';
import { nextChange } from './support/server';

jest.setTimeout(FIRST_DATABASE_TIMEOUT_MS);

const NOTIFICATION_WAIT_MS = 2_000;

/**
 * PGlite in one process: several stores wrap one PGlite instance (PgliteDriver.wrap(db), same schema), as the app
 * and a second module of the same process would, and LISTEN/NOTIFY carries every edit from one to the others.
 */
describe('stores sharing one PGlite instance', () => {
  let database: Awaited<ReturnType<typeof pgliteDatabase>>;
  let first: PostgresPolicyStore;
  let second: PostgresPolicyStore;
  const firstHeard: PolicyChange[] = [];

  const open = () => PostgresPolicyStore.open({ driver: PgliteDriver.wrap(database.db), schema: database.schema });
  const edit = (store: PostgresPolicyStore, ...edits: PolicyEdit[]) => store.edit(edits, { actor: 'feed-e2e' });

  beforeAll(async () => {
    database = await pgliteDatabase();
    first = await open();
    second = await open();
    first.onChange((change) => firstHeard.push(change));
  });

  afterAll(async () => {
    await first?.close();
    await second?.close();
    await database?.dispose();
  });

  it("should bring an edit through one store to the other's listeners, and to the writer's own once", async () => {
    const heardPolicy = nextChange(second, (change) => change.policy === 'note', NOTIFICATION_WAIT_MS, 'the put-policy on the other store');
    const put = await edit(first, { kind: 'put-policy', policy: 'note', document: { roles: { reader: ['CanRead'] } } });
    expect((await heardPolicy).change).toEqual({ policy: 'note', subject: undefined, revision: put.revision });

    const heardGrant = nextChange(second, (change) => change.subject === 'susan', NOTIFICATION_WAIT_MS, 'the grant on the other store');
    const granted = await edit(first, { kind: 'grant-role', policy: 'note', subject: 'susan', role: 'reader' });
    expect((await heardGrant).change).toEqual({ policy: 'note', subject: 'susan', revision: granted.revision });
    // What it was told of is there to read.
    expect(await second.grantsFor('note', 'susan', [])).toMatchObject({ revision: granted.revision, subjectRoles: ['reader'] });

    // The writer reported each of its edits right after commit and heard it again by its own NOTIFY: once each.
    // A write through the other store, heard here, is the barrier: notifications arrive in commit order.
    const barrier = nextChange(first, (change) => change.policy === 'barrier', NOTIFICATION_WAIT_MS, 'the barrier on the writer');
    const last = await edit(second, { kind: 'put-policy', policy: 'barrier', document: {} });
    await barrier;
    expect(firstHeard.filter((change) => change.revision! >= put.revision)).toEqual([
      { policy: 'note', subject: undefined, revision: put.revision },
      { policy: 'note', subject: 'susan', revision: granted.revision },
      { policy: 'barrier', subject: undefined, revision: last.revision },
    ]);
  });

  it('should keep the other stores listening when one of them closes', async () => {
    const third = await open();
    await third.close();
    // Closing removed only that store's listener: PGlite keeps LISTENing for the others.
    const heard = nextChange(second, (change) => change.subject === 'alice', NOTIFICATION_WAIT_MS, 'an edit after another store closed');
    const { revision } = await edit(first, { kind: 'grant-role', policy: 'note', subject: 'alice', role: 'reader' });
    expect((await heard).change).toEqual({ policy: 'note', subject: 'alice', revision });
    expect(second.feedDownSince()).toBeUndefined();
  });
});
