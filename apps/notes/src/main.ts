import { settingsFromEnv } from './config/notes-settings';
import { startBanner } from './banner';
import { DataDirInUseError } from './database/data-dir-lock';
import { startNotes } from './notes-server';

// `npm start`: the notes API, plus the local OpenID provider when OIDC_ISSUER is not set. See docs/notes-app.md.
async function main(): Promise<void> {
  const settings = settingsFromEnv();
  const notes = await startNotes(settings, { logger: ['error', 'warn'] });
  process.stdout.write(`\n${startBanner(notes, settings.oidc.audience)}`);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    notes.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`error while stopping: ${(error as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error: unknown) => {
  const err = error as NodeJS.ErrnoException;
  let message = err?.message ?? String(error);
  if (err?.code === 'EADDRINUSE') {
    message += '\n  How to fix: stop what uses the port, or choose others with PORT (the API) and LOCAL_OIDC_PORT (the local OpenID provider).';
  } else if (error instanceof DataDirInUseError) {
    message += `\n  How to fix: stop that process first, or give this one another DATA_DIR, or run several instances on a PostgreSQL server (DATABASE_URL). If process ${error.holder.pid} is not running, delete ${error.file}.`;
  } else if (err?.code === 'ECONNREFUSED' || err?.code === 'ENOTFOUND') {
    message += '\n  How to fix: check DATABASE_URL and that the PostgreSQL server is running, or unset DATABASE_URL to use the embedded database.';
  }
  process.stderr.write(`\nThe notes app did not start.\n${message}\n`);
  process.exit(1);
});
