import type { INestApplication } from '@nestjs/common';
import { Test, type TestingModuleBuilder } from '@nestjs/testing';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { AppModule } from '../../../apps/notes/src/app.module';
import type { DatabaseSettings } from '../../../apps/notes/src/database/open-database';
import { configureNotesApp, notesFastifyAdapter } from '../../../apps/notes/src/configure-app';
import { CLI_CLIENT_ID, SERVICE_CLIENT_ID } from '../../../apps/notes/src/local-oidc/demo-users';
import { startLocalOidcProvider, type LocalOidcProvider } from '../../../apps/notes/src/local-oidc/local-oidc-provider';
import { stateFileIn } from '../../../apps/notes/src/local-oidc/local-oidc-state';
import { requestClientCredentialsToken, requestDemoUserToken } from '../../../apps/notes/src/local-oidc/token-request';
import { freshDataDir } from '../../support/embedded-postgres';

export const AUDIENCE = 'notes-api';

/** The HTTP platforms the notes app runs on: `npm start` uses Express; the app also runs on Fastify. */
export type NotesAdapter = 'express' | 'fastify';
export const NOTES_ADAPTERS: readonly NotesAdapter[] = ['express', 'fastify'];

export interface NotesHarnessOptions {
  /** Default `express`, as `npm start`. */
  readonly adapter?: NotesAdapter;
  /** Default: a fresh embedded database in the harness's DATA_DIR. */
  readonly database?: Partial<DatabaseSettings>;
  /** Default: a local provider of its own; give another harness's to share it (its tokens then work on both). */
  readonly idp?: LocalOidcProvider;
}

/** The notes app wired as `npm start` wires it, against the real local oidc-provider on 127.0.0.1 and a fresh embedded database. */
export interface NotesHarness {
  readonly app: INestApplication;
  readonly idp: LocalOidcProvider;
  /** DATA_DIR: the embedded database (`<dataDir>/pglite`, notes and policy store) and the provider's state. */
  readonly dataDir: string;
  /** supertest on the app. */
  http(): ReturnType<typeof request>;
  /** An access token for a demo user from the provider's token endpoint (all notes scopes unless named). */
  tokenFor(user: string, scopes?: string[]): Promise<string>;
  /** A client-credentials token for `notes-service`. */
  serviceToken(scopes?: string[]): Promise<string>;
  close(): Promise<void>;
}

/**
 * Starts provider, database and app for one test file, with carol as the first administrator (as `npm start` does
 * with the local provider). `configure` sees the testing module builder before compiling, e.g. to
 * `overrideProvider(PolicyService)`.
 */
export async function startNotesHarness(configure?: (builder: TestingModuleBuilder) => void, options: NotesHarnessOptions = {}): Promise<NotesHarness> {
  const data = await freshDataDir();
  const ownIdp = options.idp === undefined;
  const idp = options.idp ?? (await startLocalOidcProvider({ port: 0, audience: AUDIENCE, stateFile: stateFileIn(data.dataDir) }));
  let app: INestApplication | undefined;
  try {
    const builder = Test.createTestingModule({
      imports: [
        AppModule.register({
          authz: { issuer: idp.issuer, audience: AUDIENCE, requireAccessTokenType: true },
          database: { dataDir: data.dataDir, ...options.database },
          adminSubjects: ['carol'],
          // The notes app's GraphQL runs on Apollo over Express; the REST API is tested on both adapters.
          graphql: options.adapter !== 'fastify',
        }),
      ],
    });
    configure?.(builder);
    const moduleRef = await builder.compile();
    if (options.adapter === 'fastify') {
      const fastify = moduleRef.createNestApplication<NestFastifyApplication>(notesFastifyAdapter(), { logger: false });
      app = fastify;
      configureNotesApp(fastify);
      await fastify.init();
      await fastify.getHttpAdapter().getInstance().ready();
    } else {
      app = moduleRef.createNestApplication<NestExpressApplication>({ bodyParser: false, logger: false });
      configureNotesApp(app);
      await app.init();
    }
  } catch (error) {
    await app?.close();
    if (ownIdp) await idp.close();
    await data.remove();
    throw error;
  }
  const ready = app;
  // Tokens are asked for once per user and scopes: the provider is real, but a test file needs few distinct ones.
  const tokens = new Map<string, Promise<string>>();
  const cached = (key: string, fetchToken: () => Promise<{ access_token: string }>) => {
    if (!tokens.has(key)) tokens.set(key, fetchToken().then((response) => response.access_token));
    return tokens.get(key)!;
  };
  return {
    app: ready,
    idp,
    dataDir: data.dataDir,
    http: () => request(ready.getHttpServer()),
    tokenFor: (user, scopes = []) => cached(`${user} ${scopes.join(' ')}`, () => requestDemoUserToken(idp.issuer, idp.clientSecrets[CLI_CLIENT_ID], user, scopes)),
    serviceToken: (scopes) => cached(`client ${scopes?.join(' ')}`, () => requestClientCredentialsToken(idp.issuer, idp.clientSecrets[SERVICE_CLIENT_ID], scopes)),
    close: async () => {
      await ready.close();
      if (ownIdp) await idp.close();
      await data.remove();
    },
  };
}
