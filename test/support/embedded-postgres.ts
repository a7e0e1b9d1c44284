import { PGlite } from '@electric-sql/pglite';
import { cp, mkdtemp, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Creating an embedded PostgreSQL cluster (initdb) takes 5–10 s; reopening a copy of one takes well under 1 s.
// So suites start from a copy of one empty cluster, made once per machine and PGlite version.
const TEMPLATE = join(tmpdir(), `nestjs-authz-notes-pglite-template-${process.versions.node}-${pgliteVersion()}`);

/** Hook timeout for suites whose setup may have to make that template: the one slow step, done once per machine. */
export const FIRST_DATABASE_TIMEOUT_MS = 30_000;

/**
 * A fresh data directory in the temp folder, holding an empty embedded PostgreSQL cluster where the app looks
 * for it (`<dataDir>/pglite`). The app creates its schema there at start, as on a first `npm start`.
 */
export async function freshDataDir(): Promise<{ dataDir: string; remove(): Promise<void> }> {
  await ensureTemplate();
  const dataDir = await mkdtemp(join(tmpdir(), 'notes-e2e-'));
  await cp(TEMPLATE, join(dataDir, 'pglite'), { recursive: true });
  return { dataDir, remove: () => rm(dataDir, { recursive: true, force: true }) };
}

async function ensureTemplate(): Promise<void> {
  if (await exists(TEMPLATE)) return;
  const building = await mkdtemp(`${TEMPLATE}.building-`);
  try {
    const db = await PGlite.create({ dataDir: building });
    await db.close();
    // Suites in other workers may finish first; whichever rename lands, the template is complete.
    await rename(building, TEMPLATE).catch(async (error: NodeJS.ErrnoException) => {
      if (!(await exists(TEMPLATE))) throw error;
    });
  } finally {
    await rm(building, { recursive: true, force: true });
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

function pgliteVersion(): string {
  // The package's exports hide package.json; its version is in the directory it was installed from.
  const main = require.resolve('@electric-sql/pglite');
  try {
    return require(join(main.slice(0, main.lastIndexOf('node_modules') + 'node_modules'.length), '@electric-sql/pglite/package.json')).version;
  } catch {
    return 'unknown';
  }
}
