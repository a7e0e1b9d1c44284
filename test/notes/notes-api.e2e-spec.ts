import './support/notes-test-setup';
import { randomUUID } from 'node:crypto';
import type { Note } from '../../apps/notes/src/notes/note';
import { FIRST_DATABASE_TIMEOUT_MS } from '../support/embedded-postgres';
import { AUDIENCE, startNotesHarness, type NotesHarness } from './support/notes-harness';

type NoteJson = Omit<Note, 'createdAt' | 'updatedAt'> & { createdAt: string; updatedAt: string };

// Every row of the API table, for every demo user, against the real local oidc-provider and a fresh embedded database.
describe('Notes API (real oidc-provider, embedded PostgreSQL)', () => {
  let notes: NotesHarness;
  let publicNote: NoteJson;
  let confidentialNote: NoteJson;

  const as = async (user: string, scopes?: string[]) => ({ Authorization: `Bearer ${await notes.tokenFor(user, scopes)}` });
  const create = async (user: string, note: Record<string, unknown>): Promise<NoteJson> =>
    (await notes.http().post('/notes').set(await as(user)).send(note).expect(201)).body;
  const idsOf = (list: NoteJson[]) => list.map((note) => note.id);

  beforeAll(async () => {
    notes = await startNotesHarness();
    publicNote = await create('alice', { title: 'Team lunch', body: 'Friday at noon' });
    confidentialNote = await create('carol', { title: 'Salaries 2027', body: 'numbers', confidential: true });
  }, FIRST_DATABASE_TIMEOUT_MS);

  afterAll(async () => {
    await notes?.close();
  });

  describe('GET /health', () => {
    it('should answer 200 without a token', async () => {
      await notes.http().get('/health').expect(200, { status: 'ok' });
    });
  });

  describe('when the request has no valid token', () => {
    it('should answer 401 with a bearer challenge and no error code when there is none', async () => {
      const res = await notes.http().get('/notes').expect(401);
      expect(res.headers['www-authenticate']).toBe(`Bearer realm="${AUDIENCE}"`);
    });

    it('should answer 401 invalid_token when the signature does not match', async () => {
      const token = await notes.tokenFor('susan');
      const tampered = `${token.slice(0, -6)}${token.slice(-6) === 'AAAAAA' ? 'BBBBBB' : 'AAAAAA'}`;
      const res = await notes.http().get('/notes').set('Authorization', `Bearer ${tampered}`).expect(401);
      expect(res.headers['www-authenticate']).toContain('error="invalid_token"');
    });
  });

  describe('GET /notes (scope notes:read, permission CanRead)', () => {
    it('should show susan confidential notes too: the policy grants her CanReadConfidentialNotes, her token carries no permission', async () => {
      const res = await notes.http().get('/notes').set(await as('susan')).expect(200);
      expect(idsOf(res.body)).toEqual(expect.arrayContaining([publicNote.id, confidentialNote.id]));
    });

    it('should show alice only notes that are not confidential', async () => {
      const res = await notes.http().get('/notes').set(await as('alice')).expect(200);
      expect(idsOf(res.body)).toContain(publicNote.id);
      expect(idsOf(res.body)).not.toContain(confidentialNote.id);
      expect(res.body.every((note: NoteJson) => note.confidential === false)).toBe(true);
    });

    it('should show carol everything through her identity role notes-admin (moderator)', async () => {
      const res = await notes.http().get('/notes').set(await as('carol')).expect(200);
      expect(idsOf(res.body)).toEqual(expect.arrayContaining([publicNote.id, confidentialNote.id]));
    });

    it('should refuse bob with 403 naming the policy and the missing permission, and no bearer challenge', async () => {
      const res = await notes.http().get('/notes').set(await as('bob')).expect(403);
      expect(res.body).toMatchObject({ policy: 'note', missingPermissions: ['CanRead'] });
      expect(res.headers['www-authenticate']).toBeUndefined();
    });

    it('should refuse a token without notes:read with 403 insufficient_scope', async () => {
      const res = await notes.http().get('/notes').set(await as('susan', ['notes:write'])).expect(403);
      expect(res.headers['www-authenticate']).toContain('error="insufficient_scope"');
      expect(res.headers['www-authenticate']).toContain('scope="notes:read"');
    });

    it('should refuse the notes-service client (valid client-credentials token, no grant in the policy) with 403', async () => {
      const res = await notes.http().get('/notes').set('Authorization', `Bearer ${await notes.serviceToken()}`).expect(403);
      expect(res.body).toMatchObject({ policy: 'note', missingPermissions: ['CanRead'] });
    });
  });

  describe('GET /notes/:id', () => {
    it('should give susan a confidential note', async () => {
      const res = await notes.http().get(`/notes/${confidentialNote.id}`).set(await as('susan')).expect(200);
      expect(res.body).toEqual(confidentialNote);
    });

    it('should give alice a note that is not confidential', async () => {
      await notes.http().get(`/notes/${publicNote.id}`).set(await as('alice')).expect(200, publicNote);
    });

    it('should answer alice 404 for a confidential note, exactly as for a note that does not exist', async () => {
      const hidden = await notes.http().get(`/notes/${confidentialNote.id}`).set(await as('alice')).expect(404);
      const missingId = randomUUID();
      const missing = await notes.http().get(`/notes/${missingId}`).set(await as('alice')).expect(404);
      expect(hidden.body).toEqual({ ...missing.body, message: missing.body.message.replace(missingId, confidentialNote.id) });
    });

    it('should refuse bob with 403 before looking the note up', async () => {
      const res = await notes.http().get(`/notes/${publicNote.id}`).set(await as('bob')).expect(403);
      expect(res.body.missingPermissions).toEqual(['CanRead']);
    });
  });

  describe('POST /notes (scope notes:write, permission CanWrite)', () => {
    it('should create alice a note she owns, with defaults for what she left out', async () => {
      const before = Date.now();
      const res = await notes.http().post('/notes').set(await as('alice')).send({ title: 'Ideas' }).expect(201);
      expect(res.body).toEqual({
        id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
        title: 'Ideas',
        body: '',
        confidential: false,
        ownerId: 'alice',
        createdAt: res.body.updatedAt,
        updatedAt: expect.any(String),
      });
      expect(Date.parse(res.body.createdAt)).toBeGreaterThanOrEqual(before - 1000);
      await notes.http().get(`/notes/${res.body.id}`).set(await as('alice')).expect(200, res.body);
    });

    it('should take the owner from the token subject, never from the body', async () => {
      const res = await notes.http().post('/notes').set(await as('alice')).send({ title: 'Mine', ownerId: 'carol' }).expect(400);
      expect(res.body.message).toContain('property ownerId should not exist');
    });

    it('should let carol create a confidential note that alice cannot see', async () => {
      const note = await create('carol', { title: 'Board minutes', confidential: true });
      expect(note).toMatchObject({ ownerId: 'carol', confidential: true });
      await notes.http().get(`/notes/${note.id}`).set(await as('alice')).expect(404);
    });

    it.each(['susan', 'bob'])('should refuse %s, who lacks CanWrite, with 403', async (user) => {
      const res = await notes.http().post('/notes').set(await as(user)).send({ title: 'x' }).expect(403);
      expect(res.body).toMatchObject({ policy: 'note', missingPermissions: ['CanWrite'] });
    });

    it('should refuse alice with 403 insufficient_scope when her token only has notes:read', async () => {
      const res = await notes.http().post('/notes').set(await as('alice', ['notes:read'])).send({ title: 'x' }).expect(403);
      expect(res.headers['www-authenticate']).toContain('scope="notes:write"');
    });
  });

  describe('PATCH /notes/:id (scope notes:write, permission CanEdit on the note)', () => {
    it('should let the owner change her note and keep what she did not send', async () => {
      const note = await create('alice', { title: 'Draft', body: 'keep me' });
      const res = await notes.http().patch(`/notes/${note.id}`).set(await as('alice')).send({ title: 'Final', confidential: true }).expect(200);
      expect(res.body).toMatchObject({ id: note.id, title: 'Final', body: 'keep me', confidential: true, ownerId: 'alice', createdAt: note.createdAt });
      expect(Date.parse(res.body.updatedAt)).toBeGreaterThanOrEqual(Date.parse(note.updatedAt));
    });

    it('should refuse a writer who does not own the note with 403 naming CanEdit and the note, from the guard', async () => {
      const carols = await create('carol', { title: 'Open agenda' });
      const res = await notes.http().patch(`/notes/${carols.id}`).set(await as('alice')).send({ title: 'Hijacked' }).expect(403);
      expect(res.body).toMatchObject({ policy: 'note', missingPermissions: ['CanEdit'], resource: carols.id });
      await notes.http().get(`/notes/${carols.id}`).set(await as('alice')).expect(200, carols);
    });

    it("should let a moderator (carol, type-wide CanEdit) change someone else's note; the owner stays", async () => {
      const alices = await create('alice', { title: 'Tpyo' });
      const res = await notes.http().patch(`/notes/${alices.id}`).set(await as('carol')).send({ title: 'Typo' }).expect(200);
      expect(res.body).toMatchObject({ title: 'Typo', ownerId: 'alice' });
    });

    it('should answer 403 for a confidential note of someone else, as for any note the caller may not change: nothing tells it exists', async () => {
      const hidden = await notes.http().patch(`/notes/${confidentialNote.id}`).set(await as('alice')).send({ title: 'x' }).expect(403);
      const missingId = randomUUID();
      const missing = await notes.http().patch(`/notes/${missingId}`).set(await as('alice')).send({ title: 'x' }).expect(403);
      expect(hidden.body).toEqual({ ...missing.body, message: missing.body.message.replace(missingId, confidentialNote.id), resource: confidentialNote.id });
    });

    it.each(['susan', 'bob'])('should refuse %s, who holds no CanEdit, with 403', async (user) => {
      const res = await notes.http().patch(`/notes/${publicNote.id}`).set(await as(user)).send({ title: 'x' }).expect(403);
      expect(res.body.missingPermissions).toEqual(['CanEdit']);
    });

    it('should answer 404 for a note that does not exist, to a moderator', async () => {
      await notes.http().patch(`/notes/${randomUUID()}`).set(await as('carol')).send({ title: 'x' }).expect(404);
    });
  });

  describe('DELETE /notes/:id (scope notes:write, permission CanDelete on the note)', () => {
    it("should let carol (moderator) delete someone else's note: 204, then it is gone", async () => {
      const note = await create('alice', { title: 'Temporary' });
      const res = await notes.http().delete(`/notes/${note.id}`).set(await as('carol')).expect(204);
      expect(res.text).toBe('');
      await notes.http().get(`/notes/${note.id}`).set(await as('carol')).expect(404);
      await notes.http().delete(`/notes/${note.id}`).set(await as('carol')).expect(404);
    });

    it('should let the owner delete her own note', async () => {
      const note = await create('alice', { title: 'Mine to delete' });
      await notes.http().delete(`/notes/${note.id}`).set(await as('alice')).expect(204);
      await notes.http().get(`/notes/${note.id}`).set(await as('carol')).expect(404);
    });

    it.each(['alice', 'susan', 'bob'])("should refuse %s with 403 naming CanDelete on someone else's note", async (user) => {
      const carols = await create('carol', { title: `Keep ${user}` });
      const res = await notes.http().delete(`/notes/${carols.id}`).set(await as(user)).expect(403);
      expect(res.body).toMatchObject({ policy: 'note', missingPermissions: ['CanDelete'], resource: carols.id });
      await notes.http().get(`/notes/${carols.id}`).set(await as('alice')).expect(200);
    });

    it('should refuse a token without notes:write with 403 insufficient_scope', async () => {
      const res = await notes.http().delete(`/notes/${publicNote.id}`).set(await as('carol', ['notes:read'])).expect(403);
      expect(res.headers['www-authenticate']).toContain('error="insufficient_scope"');
    });
  });
});
