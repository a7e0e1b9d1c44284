import { Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { openDatabase, type DatabaseSettings } from './open-database';
import { SQL_DATABASE, type SqlDatabase } from './sql-database';

/** Provides the app's {@link SqlDatabase} (migrated at start) and closes it after the HTTP server stops. */
@Module({})
export class DatabaseModule implements OnApplicationShutdown {
  constructor(@Inject(SQL_DATABASE) private readonly db: SqlDatabase) {}

  static register(settings: DatabaseSettings): DynamicModule {
    return {
      module: DatabaseModule,
      global: true,
      providers: [{ provide: SQL_DATABASE, useFactory: () => openDatabase(settings) }],
      exports: [SQL_DATABASE],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.db.close();
  }
}
