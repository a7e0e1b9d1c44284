import { Module, type DynamicModule } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AuthzGuard, AuthzModule, type AuthzModuleOptions } from 'nestjs-authz';
import { AuthzAdminModule, type AuthzConsoleOptions } from 'nestjs-authz/admin';
import { openNotesPolicyStore } from './authz/notes-policy-store';
import { DatabaseModule } from './database/database.module';
import type { DatabaseSettings } from './database/open-database';
import { SQL_DATABASE, type SqlDatabase } from './database/sql-database';
import { HealthController } from './health/health.controller';
import { DEMO_NOTE_OWNERS, DEMO_NOTES_SEED } from './notes/demo-notes';
import { NOTE_POLICY } from './notes/note.policy';
import { NotesGraphqlModule } from './notes/graphql/notes-graphql.module';
import { NotesModule } from './notes/notes.module';

/** Where the admin API of the policy store is mounted: `GET /authz/policies`, ... */
export const ADMIN_PATH = 'authz';

/** What AppModule needs: who issues tokens, which database, and who administers policies at first. */
export interface AppModuleSettings {
  readonly authz: Pick<AuthzModuleOptions, 'issuer' | 'jwksUri' | 'audience' | 'audienceClaim' | 'claims' | 'requireAccessTokenType'>;
  readonly database: DatabaseSettings;
  /** Subjects made administrators of policy `authz` on the very first start (AUTHZ_ADMIN_SUBJECTS). */
  readonly adminSubjects?: readonly string[];
  /** The policy console at `/authz/console/` and its sign-in client; off when absent. */
  readonly console?: AuthzConsoleOptions;
  /**
   * Serve the notes over GraphQL at `/graphql` (Apollo, which runs on Express: what `npm start` uses). Default true;
   * an app on Fastify leaves it off (Apollo on Fastify needs another integration package).
   */
  readonly graphql?: boolean;
}

/**
 * The notes app: every route behind AuthzGuard (deny by default, `@Public()` opts out), grants in the policy store
 * on the app's own database (schema `authz`; a new store starts with the files in apps/notes/policies), the admin
 * API of that store under `/authz`, and the notes feature on the SQL database.
 *
 * @example
 * const app = await NestFactory.create(AppModule.register({ authz: { issuer, audience: 'notes-api' }, database: { dataDir: '.data' }, adminSubjects: ['carol'] }));
 */
@Module({})
export class AppModule {
  static register(settings: AppModuleSettings): DynamicModule {
    // One module object, imported twice: one database, shared by the notes and the policy store.
    const database = DatabaseModule.register(settings.database);
    // The demo notes' owners are granted with the creation of policy `note`, on the start that seeds the notes.
    const initialGrants = settings.database.extraMigrations?.includes(DEMO_NOTES_SEED) ? DEMO_NOTE_OWNERS : [];
    return {
      module: AppModule,
      imports: [
        database,
        AuthzModule.forRootAsync({
          imports: [database],
          inject: [SQL_DATABASE],
          useFactory: (db: SqlDatabase): AuthzModuleOptions => ({ ...settings.authz, defaultPolicy: NOTE_POLICY, policyStore: () => openNotesPolicyStore(db, undefined, initialGrants) }),
        }),
        AuthzAdminModule.register({ path: ADMIN_PATH, administrators: [...(settings.adminSubjects ?? [])], ...(settings.console ? { console: settings.console } : {}) }),
        NotesModule,
        // The same notes over GraphQL at /graphql (Apollo on Express, graphql-ws subscriptions on the same path).
        ...(settings.graphql === false ? [] : [NotesGraphqlModule]),
      ],
      controllers: [HealthController],
      providers: [{ provide: APP_GUARD, useClass: AuthzGuard }],
    };
  }
}
