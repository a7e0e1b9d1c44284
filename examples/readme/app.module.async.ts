import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AuthzGuard, AuthzModule } from 'nestjs-authz';
import { ConfigModule, ConfigService } from './config'; // in your app: from '@nestjs/config'
import { RemotePolicyService } from './remote-policy.service'; // see "3. Policies"

@Module({
  imports: [
    AuthzModule.forRootAsync({
      imports: [ConfigModule],
      inject: [ConfigService],
      useFactory: (config: ConfigService) => ({
        issuer: config.getOrThrow('OIDC_ISSUER'),
        audience: config.get('OIDC_AUDIENCE', 'notes-api'),
        claims: config.get('OIDC_CLAIMS', 'default'),   // 'keycloak' | 'auth0' | 'okta' | 'entra-id' | 'cognito'
      }),
      policyService: RemotePolicyService,                 // optional: your PolicyService
    }),
  ],
  providers: [{ provide: APP_GUARD, useClass: AuthzGuard }],
})
export class AppModule {}
