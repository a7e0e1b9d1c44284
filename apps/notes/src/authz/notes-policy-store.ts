import { basename, join, resolve } from 'node:path';
import { createMissingPolicies, PostgresPolicyStore, readPolicyFiles, type PolicyEdit } from 'nestjs-authz';
import type { SqlDatabase } from '../database/sql-database';

/**
 * apps/notes, whether this file runs from the sources (apps/notes/src/authz) or from the build, which mirrors the
 * repository under dist/notes (dist/notes/apps/notes/src/authz): the policy files are not copied into the build.
 *
 * @example
 * notesAppRoot('/repo/dist/notes/apps/notes/src/authz'); // '/repo/apps/notes'
 */
export function notesAppRoot(dir: string = __dirname): string {
  const root = resolve(dir, '..', '..');
  const build = resolve(root, '..', '..');
  if (basename(build) === 'notes' && basename(resolve(build, '..')) === 'dist') return join(resolve(build, '..', '..'), 'apps', 'notes');
  return root;
}

/** The notes app's policy files (`note.json`, ...): what a new store starts with. */
export const NOTES_POLICY_DIR = join(notesAppRoot(), 'policies');

/** The actor of the audit entries written when the app creates the policies of its files. */
export const POLICY_FILES_ACTOR = 'notes-app';

/**
 * The notes app's policy store, on the same database as the notes (schema `authz`). The policies of
 * {@link NOTES_POLICY_DIR} that the store does not hold yet are created (`put-policy`, `ifRevision: 0`): on the first
 * start, once, even when several instances start together on one server; a policy that exists is never changed
 * (change it with the admin API or `npm run policy -- apply`).
 *
 * `initialGrants` are written in the same transaction as the creation of their policy, and only then: the owners of
 * the demo notes, which the same first start has just inserted (`DEMO_NOTE_OWNERS` in notes/demo-notes.ts). A start that finds the
 * policy writes none of them, so a grant changed since is not put back.
 *
 * @example
 * AuthzModule.forRootAsync({ inject: [SQL_DATABASE], useFactory: (db: SqlDatabase) => ({ ...options, policyStore: () => openNotesPolicyStore(db) }) })
 */
export async function openNotesPolicyStore(db: SqlDatabase, policyDir = NOTES_POLICY_DIR, initialGrants: readonly PolicyEdit[] = []): Promise<PostgresPolicyStore> {
  // Read first: a broken policy file stops the start before anything is written.
  const files = await readPolicyFiles(policyDir);
  const driver = await db.storeDriver();
  let store: PostgresPolicyStore;
  try {
    store = await PostgresPolicyStore.open({ driver });
  } catch (error) {
    await driver.close();
    throw error;
  }
  try {
    await createMissingPolicies(store, files, { actor: POLICY_FILES_ACTOR, initialEdits: initialGrants });
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}

