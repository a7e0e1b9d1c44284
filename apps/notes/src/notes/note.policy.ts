/**
 * The `note` policy: who may do what with notes. The token says who the caller is and which scopes they
 * delegated; the policy store says what that identity may do. Nothing of it is in a token: a token for susan
 * carries no permission, yet she may read confidential notes.
 *
 * Grants are type-wide (alice is a `writer` of every note; `notes-admin` maps to `moderator`) or on one note, the
 * resource being the note's id: the creator of a note is its `owner`, and the owner shares it as `shared-reader` or
 * `shared-editor`. Type-wide grants apply to every note, a resource role to its note only.
 *
 * The policy's data lives in the policy store (PostgreSQL or PGlite, schema `authz`); a new store starts with
 * apps/notes/policies/note.json. Change it with the admin API (`/authz`) or `npm run policy -- apply`.
 *
 * The guard checks the permissions on the routes, on the note of the route (`@Resource('id')`) where there is one;
 * NotesService asks for `CanReadConfidentialNotes`, type-wide and per note, to hide confidential notes.
 */
export const NOTE_POLICY = 'note';

export const NotePermission = {
  /** Read notes: type-wide for `GET /notes`, on the note for `GET /notes/:id`. */
  Read: 'CanRead',
  /** See a confidential note (type-wide: all of them). Without it a confidential note is a 404. */
  ReadConfidential: 'CanReadConfidentialNotes',
  /** Create notes (type-wide). */
  Write: 'CanWrite',
  /** Change a note. */
  Edit: 'CanEdit',
  /** Delete a note. */
  Delete: 'CanDelete',
  /** Manage a note's shares. */
  Share: 'CanShare',
} as const;

/** The resource role the creator of a note gets on it. */
export const OWNER_ROLE = 'owner';

/** The kinds of share of the API (`PUT /notes/:id/shares/:subject`) and the resource roles they stand for. */
export const SHARE_ROLES = {
  reader: 'shared-reader',
  editor: 'shared-editor',
} as const;

export type ShareKind = keyof typeof SHARE_ROLES;
export const SHARE_KINDS = Object.keys(SHARE_ROLES) as ShareKind[];
