import { readFile, rm, writeFile } from 'node:fs/promises';

/** Who holds a lock file: written into it, read back by whoever finds it taken. */
export interface LockHolder {
  readonly pid: number;
  /** What the holder is, for the message: `the notes app`, `npm run policy`. */
  readonly command: string;
  /** ISO 8601 time it took the lock. */
  readonly since: string;
}

/** A lock this process holds; `release()` removes the file if it is still this lock's. */
export interface HeldLock {
  readonly file: string;
  release(): Promise<void>;
}

/** The embedded database is in use by another live process. */
export class DataDirInUseError extends Error {
  override readonly name = this.constructor.name;
  constructor(
    readonly file: string,
    readonly holder: LockHolder,
    readonly database: string,
  ) {
    super(`The embedded database in ${database} is in use by process ${holder.pid} (${holder.command}, since ${holder.since}); PGlite can be opened by one process at a time.`);
  }
}

/**
 * Takes a lock file for a directory only one process may open (PGlite's data directory): the file holds this
 * process's pid, and a file whose pid is no longer running is stale and taken over (a process that was killed
 * leaves its file behind). Throws {@link DataDirInUseError} while a live process holds it, including this one.
 *
 * @example
 * const lock = await lockDataDir('.data/pglite.pid', '.data/pglite', 'the notes app');
 * // ... open the database; when done:
 * await lock.release();
 */
export async function lockDataDir(file: string, database: string, command: string): Promise<HeldLock> {
  const mine = `${JSON.stringify({ pid: process.pid, command, since: new Date().toISOString() } satisfies LockHolder)}\n`;
  // Two tries: the second follows the removal of a stale file. Two processes taking over the same stale file at the
  // same moment could both succeed; for a development database started by hand, that window is accepted.
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(file, mine, { flag: 'wx', mode: 0o600 });
      return {
        file,
        release: async () => {
          const now = await readFile(file, 'utf8').catch(() => undefined);
          if (now === mine) await rm(file, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = await readHolder(file);
    if (holder && isRunning(holder.pid)) throw new DataDirInUseError(file, holder, database);
    await rm(file, { force: true });
  }
  const holder = await readHolder(file);
  throw new DataDirInUseError(file, holder ?? { pid: 0, command: 'unknown', since: 'just now' }, database);
}

/**
 * Throws {@link DataDirInUseError} if a live process holds the lock file, without taking it: a check before work
 * that must not happen when the database is taken (the local provider rewrites its state file in DATA_DIR).
 *
 * @example
 * await checkNotLocked('.data/pglite.pid', '.data/pglite');
 */
export async function checkNotLocked(file: string, database: string): Promise<void> {
  const holder = await readHolder(file);
  if (holder && isRunning(holder.pid)) throw new DataDirInUseError(file, holder, database);
}

async function readHolder(file: string): Promise<LockHolder | undefined> {
  try {
    const holder = JSON.parse(await readFile(file, 'utf8')) as Partial<LockHolder>;
    if (!Number.isInteger(holder.pid) || (holder.pid as number) <= 0) return undefined;
    return { pid: holder.pid as number, command: String(holder.command ?? 'unknown'), since: String(holder.since ?? 'unknown') };
  } catch {
    // Gone, or not ours to understand: taken as stale.
    return undefined;
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
