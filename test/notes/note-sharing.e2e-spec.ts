import './support/notes-test-setup';
import { randomUUID } from 'node:crypto';
import { PolicyStore, RoleNotFoundError, type PolicyChange } from 'nestjs-authz';
import type { Note } from '../../apps/notes/src/notes/note';
import { FIRST_DATABASE_TIMEOUT_MS } from '../support/embedded-postgres';
import { NOTES_ADAPTERS, startNotesHarness, type NotesHarness } from './support/notes-harness';
import { freshServerDatabase, TEST_DATABASE_URL } from './support/server-database';

type NoteJson = Omit<Note, 'createdAt' | 'updatedAt'> & { createdAt: string; updatedAt: string };

const STORE_DOWN = () => new Error('connect ECONNREFUSED 127.0.0.1:5432');

/*
 * Issue 10, part 3: the note policy decides on each note. The creator owns the note (resource role `owner`), the
 * owner shares it (`shared-reader`, `shared-editor`), moderators act on every note (type-wide); NotesService
 * compares no owner ids. Over the real local oidc-provider, a fresh embedded database, and both HTTP platforms.
 */
describe.each(NOTES_ADAPTERS)('Note ownership and sharing on %s', (adapter) => {
  let notes: NotesHarness;
  let store: PolicyStore;

  /** Tokens of the four demo users with both notes scopes, fetched once in beforeAll, so that requests can be built synchronously. */
  const tokens: Record<string, string> = {};
  const USERS = ['alice', 'bob', 'carol', 'susan'];
  const as = async (user: string, scopes?: string[]) => ({ Authorization: `Bearer ${await notes.tokenFor(user, scopes)}` });
  const auth = (user: string) => ({ Authorization: `Bearer ${tokens[user]}` });
  const create = async (user: string, note: Record<string, unknown>): Promise<NoteJson> => (await notes.http().post('/notes').set(auth(user)).send(note).expect(201)).body;
  const get = (user: string, id: string) => notes.http().get(`/notes/${id}`).set(auth(user));
  const patch = (user: string, id: string, changes: Record<string, unknown>) => notes.http().patch(`/notes/${id}`).set(auth(user)).send(changes);
  const remove = (user: string, id: string) => notes.http().delete(`/notes/${id}`).set(auth(user));
  const shareWith = (user: string, id: string, subject: string, body?: unknown) => {
    const req = notes.http().put(`/notes/${id}/shares/${encodeURIComponent(subject)}`).set(auth(user));
    return body === undefined ? req : req.send(body as object);
  };
  const unshare = (user: string, id: string, subject: string) => notes.http().delete(`/notes/${id}/shares/${encodeURIComponent(subject)}`).set(auth(user));
  const sharesOf = (user: string, id: string) => notes.http().get(`/notes/${id}/shares`).set(auth(user));
  const grantsOn = async (id: string) => (await store.resourceGrants('note', id))?.subjects;
  const listedIds = async (user: string) => ((await notes.http().get('/notes').set(auth(user)).expect(200)).body as NoteJson[]).map((note) => note.id);

  beforeAll(async () => {
    notes = await startNotesHarness(undefined, { adapter });
    store = notes.app.get(PolicyStore);
    for (const user of USERS) tokens[user] = await notes.tokenFor(user);
  }, FIRST_DATABASE_TIMEOUT_MS);

  afterAll(async () => {
    await notes?.close();
  });

  afterEach(() => {
    jest.restoreAllMocks();
  });

  describe('the owner', () => {
    it('should be the creator: POST /notes grants her the resource role owner on the new note, and nobody else anything', async () => {
      const note = await create('alice', { title: 'Owned' });
      expect(await grantsOn(note.id)).toEqual({ alice: ['owner'] });
    });

    it('should read her own confidential note, which other writers and plain readers cannot see (404, as a missing note)', async () => {
      const secret = await create('alice', { title: 'My diary', confidential: true });
      await get('alice', secret.id).expect(200, secret);
      expect(await listedIds('alice')).toContain(secret.id);
      // carol's confidential note stays hidden from alice, in the list and by id.
      const carols = await create('carol', { title: 'Board only', confidential: true });
      expect(await listedIds('alice')).not.toContain(carols.id);
      const hidden = await get('alice', carols.id).expect(404);
      const missingId = randomUUID();
      const missing = await get('alice', missingId).expect(404);
      expect(hidden.body).toEqual({ ...missing.body, message: missing.body.message.replace(missingId, carols.id) });
      // Type-wide holders of CanReadConfidentialNotes see both.
      expect(await listedIds('susan')).toEqual(expect.arrayContaining([secret.id, carols.id]));
    });

    it('should change and delete her own note, and the delete removes every grant on it', async () => {
      const note = await create('alice', { title: 'Short-lived' });
      await shareWith('alice', note.id, 'bob', { role: 'editor' }).expect(204);
      expect((await patch('alice', note.id, { body: 'edited' }).expect(200)).body).toMatchObject({ body: 'edited', ownerId: 'alice' });
      await remove('alice', note.id).expect(204);
      expect(await grantsOn(note.id)).toEqual({});
      await get('carol', note.id).expect(404);
      // Her grant went with the note: the guard refuses her now, as it refuses anyone without a grant on that id.
      expect((await remove('alice', note.id).expect(403)).body).toMatchObject({ missingPermissions: ['CanDelete'], resource: note.id });
      expect((await get('bob', note.id).expect(403)).body).toMatchObject({ missingPermissions: ['CanRead'], resource: note.id });
    });
  });

  describe("someone else's note", () => {
    let carols: NoteJson;

    beforeAll(async () => {
      carols = await create('carol', { title: 'Agenda', body: 'carol wrote this' });
    });

    it('should refuse a writer (alice) PATCH with 403 naming CanEdit and the note, before the handler: nothing changes', async () => {
      const res = await patch('alice', carols.id, { title: 'Hijacked' }).expect(403);
      expect(res.body).toEqual({
        statusCode: 403,
        error: 'Forbidden',
        message: expect.stringContaining('CanEdit'),
        policy: 'note',
        missingPermissions: ['CanEdit'],
        resource: carols.id,
      });
      await get('alice', carols.id).expect(200, carols);
    });

    it('should refuse a writer (alice) DELETE with 403 naming CanDelete and the note: the note stays', async () => {
      const res = await remove('alice', carols.id).expect(403);
      expect(res.body).toMatchObject({ policy: 'note', missingPermissions: ['CanDelete'], resource: carols.id });
      await get('alice', carols.id).expect(200);
    });

    it('should let a moderator (carol, through notes-admin) change and delete a note she does not own', async () => {
      const alices = await create('alice', { title: 'Moderate me' });
      expect((await patch('carol', alices.id, { title: 'Moderated' }).expect(200)).body).toMatchObject({ title: 'Moderated', ownerId: 'alice' });
      await remove('carol', alices.id).expect(204);
      expect(await grantsOn(alices.id)).toEqual({});
      await get('alice', alices.id).expect(404);
    });
  });

  describe('sharing', () => {
    it('should let bob, who holds nothing type-wide, read a confidential note alice shares with him, change it only as an editor, and lose it on revoke', async () => {
      const secret = await create('alice', { title: 'For bob', body: 'only bob', confidential: true });
      // Before the share: bob holds nothing, not even on this note.
      expect((await get('bob', secret.id).expect(403)).body).toMatchObject({ missingPermissions: ['CanRead'], resource: secret.id });

      await shareWith('alice', secret.id, 'bob', { role: 'reader' }).expect(204);
      await get('bob', secret.id).expect(200, secret);
      expect((await patch('bob', secret.id, { title: 'bob was here' }).expect(403)).body).toMatchObject({ missingPermissions: ['CanEdit'], resource: secret.id });
      // A share is about one note: the list needs type-wide CanRead, which bob does not hold.
      expect((await notes.http().get('/notes').set(await as('bob')).expect(403)).body).toMatchObject({ missingPermissions: ['CanRead'] });
      expect((await sharesOf('alice', secret.id).expect(200)).body).toEqual([{ subject: 'bob', role: 'reader' }]);

      // Switching to editor replaces the reader share, in the same transaction.
      await shareWith('alice', secret.id, 'bob', { role: 'editor' }).expect(204);
      expect(await grantsOn(secret.id)).toEqual({ alice: ['owner'], bob: ['shared-editor'] });
      expect((await patch('bob', secret.id, { title: 'bob edited' }).expect(200)).body).toMatchObject({ title: 'bob edited', ownerId: 'alice' });
      // An editor neither deletes nor shares.
      expect((await remove('bob', secret.id).expect(403)).body).toMatchObject({ missingPermissions: ['CanDelete'] });
      expect((await shareWith('bob', secret.id, 'susan', { role: 'reader' }).expect(403)).body).toMatchObject({ missingPermissions: ['CanShare'] });
      expect((await sharesOf('bob', secret.id).expect(403)).body).toMatchObject({ missingPermissions: ['CanShare'] });

      // Back to reader, then revoked: bob's very next request is refused.
      await shareWith('alice', secret.id, 'bob', { role: 'reader' }).expect(204);
      expect(await grantsOn(secret.id)).toEqual({ alice: ['owner'], bob: ['shared-reader'] });
      await get('bob', secret.id).expect(200);
      await unshare('alice', secret.id, 'bob').expect(204);
      expect((await get('bob', secret.id).expect(403)).body).toMatchObject({ policy: 'note', missingPermissions: ['CanRead'], resource: secret.id });
      expect(await grantsOn(secret.id)).toEqual({ alice: ['owner'] });
      // Revoking what is not there is still 204.
      await unshare('alice', secret.id, 'bob').expect(204);
      expect((await sharesOf('alice', secret.id).expect(200)).body).toEqual([]);
    });

    it('should list the shares, not the owner, in subject order; a moderator may manage them too', async () => {
      const note = await create('alice', { title: 'Team note' });
      await shareWith('alice', note.id, 'susan', { role: 'editor' }).expect(204);
      await shareWith('carol', note.id, 'bob', { role: 'reader' }).expect(204);
      expect((await sharesOf('alice', note.id).expect(200)).body).toEqual([
        { subject: 'bob', role: 'reader' },
        { subject: 'susan', role: 'editor' },
      ]);
      await unshare('carol', note.id, 'susan').expect(204);
      expect((await sharesOf('carol', note.id).expect(200)).body).toEqual([{ subject: 'bob', role: 'reader' }]);
    });

    it('should remove every share with the note: deleting it deletes its grants', async () => {
      const note = await create('alice', { title: 'Shared, then deleted' });
      await shareWith('alice', note.id, 'bob', { role: 'reader' }).expect(204);
      await shareWith('alice', note.id, 'susan', { role: 'editor' }).expect(204);
      await remove('alice', note.id).expect(204);
      expect(await grantsOn(note.id)).toEqual({});
      await get('bob', note.id).expect(403);
      await get('susan', note.id).expect(404);
    });

    it('should take a subject of 255 characters, also non-ASCII (percent-encoded far beyond Fastify\'s default 100)', async () => {
      const note = await create('alice', { title: 'Long names' });
      const long = 'x'.repeat(255);
      const accented = 'é'.repeat(254) + '€';
      await shareWith('alice', note.id, long, { role: 'reader' }).expect(204);
      await shareWith('alice', note.id, accented, { role: 'editor' }).expect(204);
      expect((await sharesOf('alice', note.id).expect(200)).body).toEqual(
        [
          { subject: long, role: 'reader' },
          { subject: accented, role: 'editor' },
        ].sort((a, b) => (a.subject < b.subject ? -1 : 1)),
      );
      await unshare('alice', note.id, accented).expect(204);
      expect(await grantsOn(note.id)).toEqual({ alice: ['owner'], [long]: ['shared-reader'] });
    });
  });

  describe('bad input to the share routes', () => {
    let note: NoteJson;

    beforeAll(async () => {
      note = await create('alice', { title: 'Input checks' });
    });

    it.each([
      ['only spaces', '   ', 'subject must not be empty'],
      ['256 characters', 'y'.repeat(256), 'subject must be at most 255 characters'],
      ['a control character', 'bob\u0001', 'subject must not contain control characters'],
      ['a newline', 'bob\nalice', 'subject must not contain control characters'],
      ['surrounding spaces', ' bob', 'subject must not start or end with spaces'],
      ['a wildcard', '*', "subject must not contain '*'"],
    ])('should answer 400 naming subject for a subject with %s, on PUT and DELETE, and write nothing', async (_case, subject, message) => {
      const put = await shareWith('alice', note.id, subject, { role: 'reader' }).expect(400);
      expect(put.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
      expect(put.body.message).toEqual([expect.stringContaining(message)]);
      const del = await unshare('alice', note.id, subject).expect(400);
      expect(del.body.message).toEqual([expect.stringContaining(message)]);
      expect(await grantsOn(note.id)).toEqual({ alice: ['owner'] });
    });

    it('should not route an empty subject: PUT /notes/:id/shares/ is no share route (404)', async () => {
      await notes.http().put(`/notes/${note.id}/shares/`).set(await as('alice')).send({ role: 'reader' }).expect(404);
    });

    it.each([
      ['an unknown role', { role: 'owner' }, 'role must be one of the following values: reader, editor'],
      ['a policy role name', { role: 'shared-reader' }, 'role must be one of the following values: reader, editor'],
      ['no role', {}, 'role must be one of the following values: reader, editor'],
      ['null as role', { role: null }, 'role must be one of the following values: reader, editor'],
      ['an unknown field', { role: 'reader', until: 'tomorrow' }, 'property until should not exist'],
    ])('should answer 400 naming the field for %s', async (_case, body, message) => {
      const res = await shareWith('alice', note.id, 'bob', body).expect(400);
      expect(res.body.message).toContain(message);
      expect(await grantsOn(note.id)).toEqual({ alice: ['owner'] });
    });

    it('should answer 400 naming role when the request has no body at all', async () => {
      const res = await shareWith('alice', note.id, 'bob').expect(400);
      expect(res.body.message).toContain('role must be one of the following values: reader, editor');
    });

    it('should answer 404 to a moderator for a note that does not exist, on every share route, and write no grant', async () => {
      const missing = randomUUID();
      expect((await shareWith('carol', missing, 'bob', { role: 'reader' }).expect(404)).body.message).toBe(`Note ${missing} not found`);
      await unshare('carol', missing, 'bob').expect(404);
      await sharesOf('carol', missing).expect(404);
      expect(await grantsOn(missing)).toEqual({});
    });

    it('should answer 403 naming CanShare to anyone else: a writer, a reader who may read confidential notes, a share-holder, or for a note that does not exist', async () => {
      for (const user of ['susan', 'bob']) {
        const res = await shareWith(user, note.id, 'bob', { role: 'reader' }).expect(403);
        expect(res.body).toMatchObject({ policy: 'note', missingPermissions: ['CanShare'], resource: note.id });
        await unshare(user, note.id, 'bob').expect(403);
        await sharesOf(user, note.id).expect(403);
      }
      const carols = await create('carol', { title: 'Not alice\'s' });
      expect((await shareWith('alice', carols.id, 'bob', { role: 'reader' }).expect(403)).body.missingPermissions).toEqual(['CanShare']);
      expect((await shareWith('alice', randomUUID(), 'bob', { role: 'reader' }).expect(403)).body.missingPermissions).toEqual(['CanShare']);
      expect(await grantsOn(carols.id)).toEqual({ carol: ['owner'] });
    });

    it('should answer 400 to a moderator for an id that is not a UUID', async () => {
      const res = await notes.http().put('/notes/not-a-uuid/shares/bob').set(await as('carol')).send({ role: 'reader' }).expect(400);
      expect(res.body.message).toBe('Validation failed (uuid is expected)');
    });

    it('should need notes:write to change shares and notes:read to list them (403 insufficient_scope)', async () => {
      const put = await notes.http().put(`/notes/${note.id}/shares/bob`).set(await as('alice', ['notes:read'])).send({ role: 'reader' }).expect(403);
      expect(put.headers['www-authenticate']).toContain('scope="notes:write"');
      const del = await notes.http().delete(`/notes/${note.id}/shares/bob`).set(await as('alice', ['notes:read'])).expect(403);
      expect(del.headers['www-authenticate']).toContain('scope="notes:write"');
      const list = await notes.http().get(`/notes/${note.id}/shares`).set(await as('alice', ['notes:write'])).expect(403);
      expect(list.headers['www-authenticate']).toContain('scope="notes:read"');
    });
  });

  describe('when the policy store fails', () => {
    it('should answer 503 with Retry-After, never allow, when a resource check cannot be decided', async () => {
      const note = await create('alice', { title: 'Store goes away' });
      jest.spyOn(store, 'grantsFor').mockRejectedValue(STORE_DOWN());
      // A note nobody asked about yet: no remembered decision can answer for the store.
      const res = await get('alice', note.id).expect(503);
      expect(res.headers['retry-after']).toBeDefined();
      await patch('alice', note.id, { title: 'x' }).expect(503);
      jest.restoreAllMocks();
      await get('alice', note.id).expect(200, note);
    });

    it('should answer 503 with Retry-After when a share cannot be written, and change nothing', async () => {
      const note = await create('alice', { title: 'Share fails' });
      jest.spyOn(store, 'edit').mockRejectedValueOnce(STORE_DOWN());
      const res = await shareWith('alice', note.id, 'bob', { role: 'reader' }).expect(503);
      expect(res.body).toMatchObject({ statusCode: 503, error: 'Service Unavailable', message: expect.stringContaining('policy store is unavailable') });
      expect(res.headers['retry-after']).toBe('5');
      expect(await grantsOn(note.id)).toEqual({ alice: ['owner'] });
      await get('bob', note.id).expect(403);
    });

    it("should answer 503, not 500 or 404, when the store refuses a share because the policy lacks the role, and say which", async () => {
      const note = await create('alice', { title: 'Role gone' });
      jest.spyOn(store, 'edit').mockRejectedValueOnce(new RoleNotFoundError('note', 'shared-editor'));
      const res = await shareWith('alice', note.id, 'bob', { role: 'editor' }).expect(503);
      expect(res.body.message).toContain("Role 'shared-editor' is not defined in policy 'note'");
      await unshare('alice', note.id, 'bob').expect(204);
    });

    it('should answer 503 when the shares cannot be read', async () => {
      const note = await create('alice', { title: 'Shares unreadable' });
      await sharesOf('alice', note.id).expect(200, []);
      jest.spyOn(store, 'resourceGrants').mockRejectedValueOnce(STORE_DOWN());
      await sharesOf('alice', note.id).expect(503);
    });

    it('should create no note when the owner grant fails: 503, and the note row is gone again', async () => {
      const title = `Unowned ${randomUUID()}`;
      jest.spyOn(store, 'edit').mockRejectedValueOnce(STORE_DOWN());
      const res = await notes.http().post('/notes').set(await as('alice')).send({ title }).expect(503);
      expect(res.headers['retry-after']).toBe('5');
      const all = (await notes.http().get('/notes').set(await as('carol')).expect(200)).body as NoteJson[];
      expect(all.map((note) => note.title)).not.toContain(title);
    });

    it('should answer 503 when the grants of a deleted note cannot be removed, and converge when the DELETE is retried', async () => {
      const note = await create('alice', { title: 'Half deleted' });
      await shareWith('alice', note.id, 'bob', { role: 'reader' }).expect(204);
      jest.spyOn(store, 'edit').mockRejectedValueOnce(STORE_DOWN());
      const failed = await remove('alice', note.id).expect(503);
      expect(failed.headers['retry-after']).toBe('5');
      // The note is gone, its grants are still there (they grant nothing: there is no note to read).
      await get('carol', note.id).expect(404);
      expect(await grantsOn(note.id)).toEqual({ alice: ['owner'], bob: ['shared-reader'] });
      await get('bob', note.id).expect(404);
      // The retry: alice's owner grant still lets her through the guard; the grants go, then the 404.
      await remove('alice', note.id).expect(404);
      expect(await grantsOn(note.id)).toEqual({});
      await remove('alice', note.id).expect(403);
    });
  });
});

/**
 * Resolves with the first change `store` reports that `matches`. Subscribed before the write it waits for, so it
 * cannot miss it; the default PolicyService subscribed at start, before this, so once it resolves the instance has
 * already dropped what it remembered about that change.
 */
function nextChange(store: PolicyStore, matches: (change: PolicyChange) => boolean): Promise<PolicyChange> {
  return new Promise((resolve) => {
    const unsubscribe = store.onChange((change) => {
      if (!matches(change)) return;
      unsubscribe();
      resolve(change);
    });
  });
}

// Two instances of the notes app on one PostgreSQL database (A on Express, B on Fastify), one identity provider:
// a share revoked or a note deleted through A is followed by B on its next request after B hears of the change
// (LISTEN/NOTIFY), even though B remembered the decision from a request just before.
if (TEST_DATABASE_URL) describe('sharing across two instances on one PostgreSQL database (TEST_DATABASE_URL)', () => {
  let database: Awaited<ReturnType<typeof freshServerDatabase>>;
  let a: NotesHarness;
  let b: NotesHarness;
  let storeOfB: PolicyStore;
  const tokens: Record<string, string> = {};
  const auth = (user: string) => ({ Authorization: `Bearer ${tokens[user]}` });
  const onResource = (id: string) => nextChange(storeOfB, (change) => change.resource === id);

  beforeAll(async () => {
    database = await freshServerDatabase();
    a = await startNotesHarness(undefined, { adapter: 'express', database: { databaseUrl: database.url } });
    b = await startNotesHarness(undefined, { adapter: 'fastify', database: { databaseUrl: database.url }, idp: a.idp });
    storeOfB = b.app.get(PolicyStore);
    for (const user of ['alice', 'bob', 'carol']) tokens[user] = await a.tokenFor(user);
  }, FIRST_DATABASE_TIMEOUT_MS);

  afterAll(async () => {
    await b?.close();
    await a?.close();
    await database?.remove();
  });

  it("should refuse bob on B right after alice revokes his share on A, though B had just let him read", async () => {
    const note = (await a.http().post('/notes').set(auth('alice')).send({ title: 'Across instances', confidential: true }).expect(201)).body;
    await a.http().put(`/notes/${note.id}/shares/bob`).set(auth('alice')).send({ role: 'reader' }).expect(204);
    // B reads the grant from the database (it never asked about this note) and remembers the decision.
    await b.http().get(`/notes/${note.id}`).set(auth('bob')).expect(200, note);
    await b.http().get(`/notes/${note.id}`).set(auth('bob')).expect(200);

    const heard = onResource(note.id);
    await a.http().delete(`/notes/${note.id}/shares/bob`).set(auth('alice')).expect(204);
    expect(await heard).toMatchObject({ policy: 'note', resource: note.id, subject: 'bob' });
    const refused = await b.http().get(`/notes/${note.id}`).set(auth('bob')).expect(403);
    expect(refused.body).toMatchObject({ policy: 'note', missingPermissions: ['CanRead'], resource: note.id });

    // And the other way: a new share on A lets him in on B.
    const shared = onResource(note.id);
    await a.http().put(`/notes/${note.id}/shares/bob`).set(auth('alice')).send({ role: 'editor' }).expect(204);
    await shared;
    await b.http().patch(`/notes/${note.id}`).set(auth('bob')).send({ body: 'edited on B' }).expect(200);
  });

  it('should answer on B as for a note that is gone once A deleted it: 403 to the share-holder, 404 to those who may read notes', async () => {
    const note = (await a.http().post('/notes').set(auth('alice')).send({ title: 'Deleted on A' }).expect(201)).body;
    await a.http().put(`/notes/${note.id}/shares/bob`).set(auth('alice')).send({ role: 'reader' }).expect(204);
    for (const user of ['alice', 'bob', 'carol']) await b.http().get(`/notes/${note.id}`).set(auth(user)).expect(200);

    const heard = onResource(note.id);
    await a.http().delete(`/notes/${note.id}`).set(auth('alice')).expect(204);
    expect(await heard).toMatchObject({ policy: 'note', resource: note.id });
    expect((await b.http().get(`/notes/${note.id}`).set(auth('bob')).expect(403)).body).toMatchObject({ missingPermissions: ['CanRead'], resource: note.id });
    // alice's owner grant is gone with the note: she may no longer delete it on B; as a writer she may still read notes.
    await b.http().delete(`/notes/${note.id}`).set(auth('alice')).expect(403);
    await b.http().get(`/notes/${note.id}`).set(auth('alice')).expect(404);
    await b.http().get(`/notes/${note.id}`).set(auth('carol')).expect(404);
    expect((await storeOfB.resourceGrants('note', note.id))?.subjects).toEqual({});
  });
});
