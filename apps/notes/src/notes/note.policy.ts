/**
 * The `note` policy: who may do what with notes. The token says who the caller is and which scopes they
 * delegated; the policy store says what that identity may do. Nothing of it is in a token: a token for susan
 * carries no permission, yet she may read confidential notes.
 *
 * The policy's data lives in the policy store (PostgreSQL or PGlite, schema `authz`); a new store starts with
 * apps/notes/policies/note.json. Change it with the admin API (`/authz`) or `npm run policy -- apply`.
 *
 * The guard checks the permissions on the routes; NotesService asks for `CanReadConfidentialNotes` and
 * `CanModerate` to filter and to allow changes to other people's notes.
 */
export const NOTE_POLICY = 'note';

export const NotePermission = {
  Read: 'CanRead',
  ReadConfidential: 'CanReadConfidentialNotes',
  Write: 'CanWrite',
  Delete: 'CanDelete',
  Moderate: 'CanModerate',
} as const;
