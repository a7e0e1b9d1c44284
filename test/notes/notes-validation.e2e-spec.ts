import './support/notes-test-setup';
import { randomUUID } from 'node:crypto';
import { FIRST_DATABASE_TIMEOUT_MS } from '../support/embedded-postgres';
import { startNotesHarness, type NotesHarness } from './support/notes-harness';

// Bad input gets a 400/404/413 that says what is wrong, never a 500; checked over HTTP with real tokens.
describe('Notes API input validation', () => {
  let notes: NotesHarness;
  let auth: { Authorization: string };
  let existingId: string;

  const post = (body: unknown) => notes.http().post('/notes').set(auth).send(body as object);
  const patch = (body: unknown, id = existingId) => notes.http().patch(`/notes/${id}`).set(auth).send(body as object);
  const rawJson = (method: 'post' | 'patch', path: string, text: string) =>
    notes.http()[method](path).set(auth).set('Content-Type', 'application/json').send(text);

  beforeAll(async () => {
    notes = await startNotesHarness();
    // carol may write and delete: the validation under test runs after the guard lets her through.
    auth = { Authorization: `Bearer ${await notes.tokenFor('carol')}` };
    existingId = (await post({ title: 'Existing', body: 'unchanged' }).expect(201)).body.id;
  }, FIRST_DATABASE_TIMEOUT_MS);

  afterAll(async () => {
    await notes?.close();
  });

  describe('POST /notes', () => {
    it.each([
      ['an unknown field', { title: 'x', color: 'red' }, 'property color should not exist'],
      ['a field the server sets', { title: 'x', id: randomUUID() }, 'property id should not exist'],
      ['no title', { body: 'text' }, 'title must be a string'],
      ['an empty title', { title: '' }, 'title must be longer than or equal to 1 characters'],
      ['a title of 201 characters', { title: 'a'.repeat(201) }, 'title must be shorter than or equal to 200 characters'],
      ['a number as title', { title: 42 }, 'title must be a string'],
      ['null as title', { title: null }, 'title must be a string'],
      ['a body of 10 001 characters', { title: 'x', body: 'b'.repeat(10_001) }, 'body must be shorter than or equal to 10000 characters'],
      ['an object as body', { title: 'x', body: { text: 'hi' } }, 'body must be a string'],
      ['null as body', { title: 'x', body: null }, 'body must be a string'],
      ['a string as confidential', { title: 'x', confidential: 'true' }, 'confidential must be a boolean value'],
      ['a number as confidential', { title: 'x', confidential: 1 }, 'confidential must be a boolean value'],
      ['a NUL character in the title (PostgreSQL text cannot hold it)', { title: 'a\u0000b' }, 'title must not contain the NUL character (\\u0000)'],
      ['a NUL character in the body', { title: 'x', body: '\u0000' }, 'body must not contain the NUL character (\\u0000)'],
    ])('should answer 400 naming the field for %s', async (_case, body, message) => {
      const res = await post(body).expect(400);
      expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
      expect(res.body.message).toContain(message);
    });

    it('should accept a note at the limits: 200-character title, 10 000-character body', async () => {
      const res = await post({ title: 't'.repeat(200), body: 'b'.repeat(10_000), confidential: false }).expect(201);
      expect(res.body.body).toHaveLength(10_000);
    });

    it('should answer 400 for malformed JSON', async () => {
      const res = await rawJson('post', '/notes', '{"title": "x",').expect(400);
      expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    });

    it('should answer 400 for JSON that is not an object', async () => {
      await rawJson('post', '/notes', '"just a string"').expect(400);
      await rawJson('post', '/notes', '[{"title": "in an array"}]').expect(400);
    });

    it('should answer 413 for a body above the size limit, before validating it', async () => {
      const res = await rawJson('post', '/notes', JSON.stringify({ title: 'x', body: 'b'.repeat(200_000) })).expect(413);
      expect(res.body).toMatchObject({ statusCode: 413 });
    });

    it('should store nothing when it refuses a note', async () => {
      await post({ title: 'Refused', extra: true }).expect(400);
      const list = await notes.http().get('/notes').set(auth).expect(200);
      expect(list.body.map((note: { title: string }) => note.title)).not.toContain('Refused');
    });
  });

  describe('PATCH /notes/:id', () => {
    it.each([
      ['an unknown field', { title: 'x', ownerId: 'carol' }, 'property ownerId should not exist'],
      ['a number as title', { title: 7 }, 'title must be a string'],
      ['null as title', { title: null }, 'title must be a string'],
      ['an empty title', { title: '' }, 'title must be longer than or equal to 1 characters'],
      ['a title of 201 characters', { title: 'a'.repeat(201) }, 'title must be shorter than or equal to 200 characters'],
      ['a body of 10 001 characters', { body: 'b'.repeat(10_001) }, 'body must be shorter than or equal to 10000 characters'],
      ['a string as confidential', { confidential: 'no' }, 'confidential must be a boolean value'],
      ['a NUL character in the title', { title: 'a\u0000b' }, 'title must not contain the NUL character (\\u0000)'],
      ['a NUL character in the body', { body: 'x\u0000' }, 'body must not contain the NUL character (\\u0000)'],
      ['nothing to change', {}, 'Nothing to change: give at least one of title, body, confidential'],
    ])('should answer 400 naming the field for %s, and change nothing', async (_case, body, message) => {
      const res = await patch(body).expect(400);
      expect(res.body.message).toContain(message);
      const note = await notes.http().get(`/notes/${existingId}`).set(auth).expect(200);
      expect(note.body).toMatchObject({ title: 'Existing', body: 'unchanged' });
    });

    it('should answer 400 for malformed JSON', async () => {
      await rawJson('patch', `/notes/${existingId}`, '{title:').expect(400);
    });
  });

  describe('ids', () => {
    it.each([
      ['a word', 'not-a-uuid'],
      ['a number', '42'],
      ['SQL', "1' OR '1'='1"],
      ['2 000 characters', 'a'.repeat(2_000)],
      ['a UUID with a non-hex digit', '00000000-0000-4000-8000-00000000000g'],
    ])('should answer 400 for %s as id on GET, PATCH and DELETE', async (_case, id) => {
      const path = `/notes/${encodeURIComponent(id)}`;
      const answers = [
        await notes.http().get(path).set(auth),
        await notes.http().patch(path).set(auth).send({ title: 'x' }),
        await notes.http().delete(path).set(auth),
      ];
      for (const res of answers) {
        expect(res.status).toBe(400);
        expect(res.body.message).toBe('Validation failed (uuid is expected)');
      }
    });

    it('should answer 404 for a well-formed id that names no note', async () => {
      const id = randomUUID();
      await notes.http().get(`/notes/${id}`).set(auth).expect(404);
      await notes.http().patch(`/notes/${id}`).set(auth).send({ title: 'x' }).expect(404);
      await notes.http().delete(`/notes/${id}`).set(auth).expect(404);
    });
  });
});
