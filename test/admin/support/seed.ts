import { InMemoryPolicyStore, type PolicyDocument, type PolicyDocuments } from 'nestjs-authz';

/** Who administers: carol (through the administrator role). dave holds the scope in tests but no grant. */
export const authzPolicy: PolicyDocument = {
  roles: { administrator: ['CanAdminister'] },
  subjects: { carol: { roles: ['administrator'] } },
};

/** A policy to administer: roles, a subject with a role and a direct permission, an identity-role mapping. */
export const notePolicy: PolicyDocument = {
  roles: { reader: ['CanRead'], editor: ['CanRead', 'CanWrite'], moderator: ['*'], unused: ['CanArchive'] },
  subjects: { susan: { roles: ['reader'], permissions: ['CanReadConfidentialNotes'] }, alice: { roles: ['editor'] } },
  identityRoles: { 'notes-admin': ['moderator'] },
};

export const seedPolicies = (): PolicyDocuments => ({ authz: authzPolicy, note: notePolicy });

/** A fresh store with {@link seedPolicies}. */
export const seededStore = (): InMemoryPolicyStore => new InMemoryPolicyStore(seedPolicies());
