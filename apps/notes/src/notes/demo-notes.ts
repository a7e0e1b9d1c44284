import type { Migration } from '../database/migrations';

/** Fixed ids, so the docs can show `curl .../notes/<id>` lines that work on every machine. */
export const DEMO_NOTES = [
  {
    id: '00000000-0000-4000-8000-000000000001',
    title: 'Welcome to the notes API',
    body: 'Anyone the note policy grants CanRead sees this note.',
    confidential: false,
    ownerId: 'alice',
  },
  {
    id: '00000000-0000-4000-8000-000000000002',
    title: 'Shopping list',
    body: 'Milk, bread, a JWKS with two keys.',
    confidential: false,
    ownerId: 'alice',
  },
  {
    id: '00000000-0000-4000-8000-000000000003',
    title: 'Reorganisation plan',
    body: 'Confidential: only holders of CanReadConfidentialNotes see this note; everyone else gets 404.',
    confidential: true,
    ownerId: 'carol',
  },
] as const;

/** Inserts the demo notes once into a new database (`npm start` with the local provider). */
export const DEMO_NOTES_SEED: Migration = {
  name: 'seed-demo-notes',
  apply: async (tx) => {
    for (const note of DEMO_NOTES) {
      await tx.query('INSERT INTO notes (id, title, body, confidential, owner_id) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING', [
        note.id,
        note.title,
        note.body,
        note.confidential,
        note.ownerId,
      ]);
    }
  },
};
