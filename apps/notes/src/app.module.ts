import { Module, type DynamicModule } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AuthzGuard, AuthzModule, type AuthzModuleOptions } from 'nestjs-authz';
import { DatabaseModule } from './database/database.module';
import type { DatabaseSettings } from './database/open-database';
import { HealthController } from './health/health.controller';
import { NOTE_POLICY, notePolicy } from './notes/note.policy';
import { NotesModule } from './notes/notes.module';

/** What AppModule needs: who issues tokens, and which database. */
export interface AppModuleSettings {
  readonly authz: Pick<AuthzModuleOptions, 'issuer' | 'jwksUri' | 'audience' | 'audienceClaim' | 'claims' | 'requireAccessTokenType'>;
  readonly database: DatabaseSettings;
}

/**
 * The notes app: every route behind AuthzGuard (deny by default, `@Public()` opts out), the `note` policy as
 * the default PolicyService's data, and the notes feature on the SQL database.
 *
 * @example
 * const app = await NestFactory.create(AppModule.register({ authz: { issuer, audience: 'notes-api' }, database: { dataDir: '.data' } }));
 */
@Module({})
export class AppModule {
  static register(settings: AppModuleSettings): DynamicModule {
    return {
      module: AppModule,
      imports: [
        AuthzModule.forRoot({ ...settings.authz, defaultPolicy: NOTE_POLICY, policies: { [NOTE_POLICY]: notePolicy } }),
        DatabaseModule.register(settings.database),
        NotesModule,
      ],
      controllers: [HealthController],
      providers: [{ provide: APP_GUARD, useClass: AuthzGuard }],
    };
  }
}
