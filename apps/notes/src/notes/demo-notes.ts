import type { PolicyEdit } from 'nestjs-authz';
import type { Migration } from '../database/migrations';
import { NOTE_POLICY, OWNER_ROLE } from './note.policy';

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

/**
 * The demo notes' owners (resource role `owner` on each note, as `POST /notes` grants it). Written together with the
 * creation of policy `note`, in the same transaction, on the first start that seeds the demo notes (see
 * `openNotesPolicyStore`): once, like the seed itself, and never again after a change through the API.
 */
export const DEMO_NOTE_OWNERS: readonly PolicyEdit[] = DEMO_NOTES.map((note) => ({
  kind: 'grant-resource-role',
  policy: NOTE_POLICY,
  resource: note.id,
  subject: note.ownerId,
  role: OWNER_ROLE,
}));
