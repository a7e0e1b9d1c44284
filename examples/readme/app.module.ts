import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AuthzGuard, AuthzModule } from 'nestjs-authz';
import { notePolicy } from './notes/note.policy'; // a PolicyDocument, see "3. Policies"

@Module({
  imports: [
    AuthzModule.forRoot({
      issuer: 'https://login.example.com/',   // exactly as in the tokens' `iss`
      audience: 'notes-api',                   // this API's identifier in `aud`
      defaultPolicy: 'note',
      policies: { note: notePolicy },          // in memory; or `policyStore` (PostgreSQL, see "4. The policy store")
    }),
  ],
  // One line protects every route; @Public() opts a route out.
  providers: [{ provide: APP_GUARD, useClass: AuthzGuard }],
})
export class AppModule {}
