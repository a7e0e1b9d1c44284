import type { LoggerService, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { AddressInfo } from 'node:net';
import { ADMIN_PATH, AppModule } from './app.module';
import type { NotesSettings } from './config/notes-settings';
import { configureNotesApp } from './configure-app';
import { checkNotLocked } from './database/data-dir-lock';
import { lockFileOf, pgliteDirIn } from './database/pglite-database';
import { SQL_DATABASE, type SqlDatabase } from './database/sql-database';
import { startLocalOidcProvider, type LocalOidcProvider } from './local-oidc/local-oidc-provider';
import { stateFileIn } from './local-oidc/local-oidc-state';
import { CONSOLE_SCOPES } from './local-oidc/demo-users';
import { DEMO_NOTES_SEED } from './notes/demo-notes';

/** The app as `npm start` runs it. */
export interface RunningNotes {
  readonly apiUrl: string;
  readonly issuer: string;
  /** Present when no OIDC_ISSUER was set. */
  readonly localProvider?: LocalOidcProvider;
  readonly database: string;
  /** The admin API of the policy store. */
  readonly adminUrl: string;
  /** The policy console, when it is on (the local provider, or AUTHZ_CONSOLE_CLIENT_ID). */
  readonly consoleUrl?: string;
  /** AUTHZ_ADMIN_SUBJECTS: made administrators if policy `authz` did not exist yet at start. */
  readonly adminSubjects: readonly string[];
  readonly app: NestExpressApplication;
  close(): Promise<void>;
}

/**
 * Starts the notes API and, unless an external issuer is configured, the local development OpenID provider.
 *
 * @example
 * const notes = await startNotes(settingsFromEnv());
 * console.log(`API on ${notes.apiUrl}`);
 */
export async function startNotes(settings: NotesSettings, options: { logger?: LoggerService | LogLevel[] | false } = {}): Promise<RunningNotes> {
  if (!settings.databaseUrl) {
    // Before the local provider, which records its address in DATA_DIR: a second app on a taken DATA_DIR changes nothing.
    const pglite = pgliteDirIn(settings.dataDir);
    await checkNotLocked(lockFileOf(pglite), pglite);
  }
  const localProvider = settings.oidc.issuer
    ? undefined
    : await startLocalOidcProvider({ port: settings.localOidcPort, audience: settings.oidc.audience, stateFile: stateFileIn(settings.dataDir) });
  try {
    const issuer = settings.oidc.issuer ?? localProvider!.issuer;
    const module = AppModule.register({
      authz: {
        issuer,
        jwksUri: settings.oidc.jwksUri,
        audience: settings.oidc.audience,
        audienceClaim: settings.oidc.audienceClaim,
        claims: settings.oidc.claims,
        // The local provider issues RFC 9068 tokens; external providers differ (see docs/notes-app.md).
        requireAccessTokenType: localProvider !== undefined,
      },
      database: { databaseUrl: settings.databaseUrl, dataDir: settings.dataDir, extraMigrations: settings.seedDemoNotes ? [DEMO_NOTES_SEED] : [] },
      adminSubjects: settings.adminSubjects,
      // The local provider's console client may ask for the notes scopes too; an external one gets the default.
      console: settings.consoleClientId === undefined ? undefined : { clientId: settings.consoleClientId, ...(localProvider ? { scopes: CONSOLE_SCOPES.join(' ') } : {}) },
    });
    const app = await NestFactory.create<NestExpressApplication>(module, { bodyParser: false, logger: options.logger, abortOnError: false });
    try {
      configureNotesApp(app);
      await app.listen(settings.port, settings.host);
    } catch (error) {
      await app.close();
      throw error;
    }
    const { port } = app.getHttpServer().address() as AddressInfo;
    const apiUrl = `http://${settings.host.includes(':') ? `[${settings.host}]` : settings.host}:${port}`;
    return {
      apiUrl,
      issuer,
      localProvider,
      database: app.get<SqlDatabase>(SQL_DATABASE).description,
      adminUrl: `${apiUrl}/${ADMIN_PATH}`,
      ...(settings.consoleClientId === undefined ? {} : { consoleUrl: `${apiUrl}/${ADMIN_PATH}/console/` }),
      adminSubjects: settings.adminSubjects,
      app,
      close: async () => {
        await app.close();
        await localProvider?.close();
      },
    };
  } catch (error) {
    await localProvider?.close();
    throw error;
  }
}
