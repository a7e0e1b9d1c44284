import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AuthzGuard, AuthzModule, PgDriver, PostgresPolicyStore } from 'nestjs-authz';
import { AuthzAdminModule } from 'nestjs-authz/admin';

@Module({
  imports: [
    AuthzModule.forRoot({
      issuer: 'https://login.example.com/',
      audience: 'notes-api',
      defaultPolicy: 'note',
      // Called once at start; the module closes the store at shutdown.
      policyStore: async () => PostgresPolicyStore.open({ driver: await PgDriver.connect(process.env.DATABASE_URL!) }),
    }),
    // JSON admin API under /authz: scope authz:admin + CanAdminister in policy `authz`; carol administers from the first start.
    AuthzAdminModule.register({ administrators: ['carol'] }),
  ],
  providers: [{ provide: APP_GUARD, useClass: AuthzGuard }],
})
export class AppModule {}
