import type { PolicyDocument } from 'nestjs-authz';

export const notePolicy: PolicyDocument = {
  roles: {
    reader: ['CanRead'],
    writer: ['CanRead', 'CanWrite'],
    moderator: ['CanRead', 'CanReadConfidentialNotes', 'CanWrite', 'CanEdit', 'CanDelete', 'CanModerate'],
    owner: ['CanRead', 'CanReadConfidentialNotes', 'CanEdit', 'CanDelete'], // held on single notes: see "5. Permissions on single records"
  },
  subjects: { susan: { roles: ['reader'], permissions: ['CanReadConfidentialNotes'] }, alice: { roles: ['writer'] } },
  identityRoles: { 'notes-admin': ['moderator'] },
};
