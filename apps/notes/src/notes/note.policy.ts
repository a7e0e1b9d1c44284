import type { PolicyDocument } from 'nestjs-authz';

/**
 * The `note` policy: who may do what with notes. The token says who the caller is and which scopes they
 * delegated; this file says what that identity may do. Nothing here is in a token: a token for susan carries
 * no permission, yet she may read confidential notes.
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

export const notePolicy: PolicyDocument = {
  roles: {
    reader: ['CanRead'],
    writer: ['CanRead', 'CanWrite'],
    moderator: ['CanRead', 'CanReadConfidentialNotes', 'CanWrite', 'CanDelete', 'CanModerate'],
  },
  // Grants by subject (`sub`). carol has none here: her moderator role comes from the identity role in her token.
  subjects: {
    susan: { roles: ['reader'], permissions: ['CanReadConfidentialNotes'] },
    alice: { roles: ['writer'] },
    bob: {}, // a valid user of the identity provider who may do nothing with notes
  },
  // Identity roles from the token's `roles` claim (or the preset's claim) → roles of this policy.
  identityRoles: {
    'notes-admin': ['moderator'],
  },
};
