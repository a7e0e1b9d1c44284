import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { resolveAuthzConfig, type AuthzConfig } from './authz.config';
import {
  AUTHZ_ASYNC_OPTIONS_TYPE,
  AUTHZ_MODULE_OPTIONS,
  AUTHZ_OPTIONS_TYPE,
  ConfigurableAuthzModule,
  type AuthzModuleExtras,
} from './authz.module-definition';
import type { AuthzModuleOptions } from './authz.options';
import { AUTHZ_CONFIG } from './authz.tokens';
import { AuthzGuard } from './guards/authz.guard';
import { RouteReport } from './guards/route-report';
import { KeySet } from './jwt/key-set';
import { TokenVerifier } from './jwt/token-verifier';
import { DefaultPolicyService } from './policy/default-policy.service';
import { PolicyStore } from './store/policy-store';
import { PolicyStoreLifecycle, policyStoreProvider } from './store/policy-store.provider';
import { PolicyService } from './policy/policy.service';

/**
 * Token validation, scope and permission checks for a Nest app. Provides {@link AuthzGuard}, {@link PolicyService}
 * and the validated configuration; the app turns the guard on with `APP_GUARD`.
 *
 * @example
 * \@Module({
 *   imports: [
 *     AuthzModule.forRootAsync({
 *       inject: [ConfigService],
 *       useFactory: (config: ConfigService) => ({ issuer: config.getOrThrow('OIDC_ISSUER'), audience: 'notes-api', defaultPolicy: 'note' }),
 *     }),
 *   ],
 *   providers: [{ provide: APP_GUARD, useClass: AuthzGuard }],
 * })
 * export class AppModule {}
 */
@Module({})
export class AuthzModule extends ConfigurableAuthzModule {
  static override forRoot(options: typeof AUTHZ_OPTIONS_TYPE): DynamicModule {
    return withProviders(super.forRoot(options), options);
  }

  static override forRootAsync(options: typeof AUTHZ_ASYNC_OPTIONS_TYPE): DynamicModule {
    return withProviders(super.forRootAsync(options), options);
  }
}

function withProviders(definition: DynamicModule, extras: AuthzModuleExtras): DynamicModule {
  const providers: Provider[] = [
    { provide: AUTHZ_CONFIG, useFactory: (options: AuthzModuleOptions) => resolveAuthzConfig(options), inject: [AUTHZ_MODULE_OPTIONS] },
    { provide: KeySet, useFactory: (config: AuthzConfig) => new KeySet(config), inject: [AUTHZ_CONFIG] },
    { provide: TokenVerifier, useFactory: (config: AuthzConfig, keys: KeySet) => new TokenVerifier(config, keys), inject: [AUTHZ_CONFIG, KeySet] },
    policyStoreProvider,
    PolicyStoreLifecycle,
    { provide: PolicyService, useClass: extras.policyService ?? DefaultPolicyService },
    AuthzGuard,
    RouteReport,
  ];
  return {
    ...definition,
    imports: [...(definition.imports ?? []), DiscoveryModule],
    providers: [...(definition.providers ?? []), ...providers],
    exports: [AUTHZ_CONFIG, KeySet, TokenVerifier, PolicyStore, PolicyService, AuthzGuard],
  };
}
