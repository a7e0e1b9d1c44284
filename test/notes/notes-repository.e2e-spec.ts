import './support/notes-test-setup';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { migrate, SCHEMA_MIGRATIONS } from '../../apps/notes/src/database/migrations';
import { PgliteDatabase } from '../../apps/notes/src/database/pglite-database';
import { PostgresDatabase } from '../../apps/notes/src/database/postgres-database';
import type { SqlDatabase } from '../../apps/notes/src/database/sql-database';
import { DEMO_NOTES, DEMO_NOTES_SEED } from '../../apps/notes/src/notes/demo-notes';
import { NotesRepository } from '../../apps/notes/src/notes/notes.repository';
import { FIRST_DATABASE_TIMEOUT_MS, freshDataDir } from '../support/embedded-postgres';

/**
 * A PostgreSQL server to run the same suite against, e.g. postgres://postgres@127.0.0.1:5432/postgres.
 * `.ci/run` starts a throwaway cluster and sets it; each run works in a schema of its own and drops it.
 */
const POSTGRES_URL = process.env.TEST_DATABASE_URL;

interface Backend {
  db: SqlDatabase;
  dispose(): Promise<void>;
}

async function embedded(): Promise<Backend> {
  const data = await freshDataDir();
  const db = await PgliteDatabase.open(join(data.dataDir, 'pglite'));
  return { db, dispose: async () => (await db.close(), await data.remove()) };
}

async function server(): Promise<Backend> {
  const schema = `notes_test_${randomBytes(6).toString('hex')}`;
  const admin = await PostgresDatabase.connect({ connectionString: POSTGRES_URL });
  await admin.exec(`CREATE SCHEMA ${schema}`);
  const db = await PostgresDatabase.connect({ connectionString: POSTGRES_URL, options: `-c search_path=${schema}` });
  return {
    db,
    dispose: async () => {
      await db.close();
      await admin.exec(`DROP SCHEMA ${schema} CASCADE`);
      await admin.close();
    },
  };
}

const backends: [string, () => Promise<Backend>][] = [['embedded PostgreSQL (PGlite)', embedded]];
if (POSTGRES_URL) backends.push(['a PostgreSQL server (TEST_DATABASE_URL)', server]);

// The same SQL on both backends: what runs in `npm start` (PGlite) is what runs with DATABASE_URL (pg).
describe.each(backends)('NotesRepository on %s', (_name, open) => {
  let backend: Backend;
  let notes: NotesRepository;

  beforeAll(async () => {
    backend = await open();
    expect(await migrate(backend.db, SCHEMA_MIGRATIONS)).toEqual(['001-create-notes']);
    notes = new NotesRepository(backend.db);
  }, FIRST_DATABASE_TIMEOUT_MS);

  afterAll(async () => {
    await backend?.dispose();
  });

  beforeEach(async () => {
    await backend.db.exec('DELETE FROM notes');
  });

  describe('migrate', () => {
    it('should apply each migration once and record it', async () => {
      expect(await migrate(backend.db, SCHEMA_MIGRATIONS)).toEqual([]);
      const applied = await backend.db.query<{ name: string }>('SELECT name FROM schema_migrations ORDER BY name');
      expect(applied.map((row) => row.name)).toContain('001-create-notes');
    });

    it('should insert the demo notes once, even when asked again', async () => {
      expect(await migrate(backend.db, [...SCHEMA_MIGRATIONS, DEMO_NOTES_SEED])).toEqual(['seed-demo-notes']);
      expect(await migrate(backend.db, [...SCHEMA_MIGRATIONS, DEMO_NOTES_SEED])).toEqual([]);
      const all = await notes.list({ includeConfidential: true });
      expect(all.map((note) => note.id)).toEqual(DEMO_NOTES.map((note) => note.id));
    });

    it('should roll back a migration that fails, and record nothing of it', async () => {
      const broken = { name: '999-broken', apply: async (tx: Parameters<typeof DEMO_NOTES_SEED.apply>[0]) => tx.exec('CREATE TABLE half_done (id int); SELECT no_such_function()') };
      await expect(migrate(backend.db, [...SCHEMA_MIGRATIONS, broken])).rejects.toThrow(/no_such_function/);
      expect(await backend.db.query("SELECT name FROM schema_migrations WHERE name = '999-broken'")).toEqual([]);
      expect(await backend.db.query("SELECT 1 FROM information_schema.tables WHERE table_name = 'half_done'")).toEqual([]);
    });
  });

  describe('create and findById', () => {
    it('should store a note and give it an id and timestamps', async () => {
      const note = await notes.create({ title: 'Hello', body: 'World', confidential: true, ownerId: 'alice' });
      // Rows come from the database driver's realm, so dates are checked by value rather than with expect.any(Date).
      expect({ ...note, createdAt: note.createdAt.toISOString(), updatedAt: note.updatedAt.toISOString() }).toEqual({
        id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
        title: 'Hello',
        body: 'World',
        confidential: true,
        ownerId: 'alice',
        createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        updatedAt: note.createdAt.toISOString(),
      });
      expect(await notes.findById(note.id)).toEqual(note);
    });

    it('should store text exactly as given, quotes and all', async () => {
      const title = `Robert'); DROP TABLE notes;-- "ü" 😀 \\ $1`;
      const note = await notes.create({ title, body: 'line\n\ttab', confidential: false, ownerId: "o'brien" });
      expect(await notes.findById(note.id)).toMatchObject({ title, body: 'line\n\ttab', ownerId: "o'brien" });
    });

    it('should find nothing for an id no note has', async () => {
      expect(await notes.findById('00000000-0000-4000-8000-000000000000')).toBeUndefined();
    });
  });

  describe('list', () => {
    it('should leave out confidential notes unless asked, in creation order even within one clock tick', async () => {
      const created = [];
      for (let i = 0; i < 12; i++) created.push(await notes.create({ title: `note ${i}`, body: '', confidential: i % 3 === 1, ownerId: 'alice' }));
      expect((await notes.list({ includeConfidential: true })).map((note) => note.title)).toEqual(created.map((note) => note.title));
      expect((await notes.list({ includeConfidential: false })).map((note) => note.title)).toEqual(created.filter((note) => !note.confidential).map((note) => note.title));
    });
  });

  describe('update', () => {
    it('should change only the given fields and move updatedAt, not createdAt', async () => {
      const note = await notes.create({ title: 'old', body: 'keep', confidential: false, ownerId: 'alice' });
      const changed = await notes.update(note.id, { title: 'new', confidential: true });
      expect(changed).toMatchObject({ id: note.id, title: 'new', body: 'keep', confidential: true, ownerId: 'alice', createdAt: note.createdAt });
      expect(changed!.updatedAt.getTime()).toBeGreaterThanOrEqual(note.updatedAt.getTime());
    });

    it('should be able to set confidential back to false and the body to empty', async () => {
      const note = await notes.create({ title: 't', body: 'text', confidential: true, ownerId: 'alice' });
      expect(await notes.update(note.id, { confidential: false, body: '' })).toMatchObject({ confidential: false, body: '' });
    });

    it('should answer undefined for an id no note has', async () => {
      expect(await notes.update('00000000-0000-4000-8000-000000000000', { title: 'x' })).toBeUndefined();
    });
  });

  describe('delete', () => {
    it('should delete once and then report there was nothing to delete', async () => {
      const note = await notes.create({ title: 't', body: '', confidential: false, ownerId: 'alice' });
      expect(await notes.delete(note.id)).toBe(true);
      expect(await notes.findById(note.id)).toBeUndefined();
      expect(await notes.delete(note.id)).toBe(false);
    });
  });

  describe('transaction', () => {
    it('should keep nothing of a transaction that throws', async () => {
      await expect(
        backend.db.transaction(async (tx) => {
          await tx.query("INSERT INTO notes (id, title, owner_id) VALUES ('00000000-0000-4000-8000-0000000000aa', 'ghost', 'alice')");
          throw new Error('changed my mind');
        }),
      ).rejects.toThrow('changed my mind');
      expect(await notes.findById('00000000-0000-4000-8000-0000000000aa')).toBeUndefined();
    });
  });
});
