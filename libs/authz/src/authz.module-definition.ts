import { ConfigurableModuleBuilder, type Type } from '@nestjs/common';
import type { AuthzModuleOptions } from './authz.options';
import type { PolicyService } from './policy/policy.service';

/** Module-level switches, given next to the options in `forRoot()` / `forRootAsync()`. */
export interface AuthzModuleExtras {
  /** Make the module's providers (PolicyService, AuthzGuard, ...) injectable everywhere. Default `true`. */
  isGlobal?: boolean;
  /** Your PolicyService implementation. Default: the built-in one, reading the `policies` option. */
  policyService?: Type<PolicyService>;
}

export const {
  ConfigurableModuleClass: ConfigurableAuthzModule,
  MODULE_OPTIONS_TOKEN: AUTHZ_MODULE_OPTIONS,
  OPTIONS_TYPE: AUTHZ_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: AUTHZ_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<AuthzModuleOptions>({ moduleName: 'Authz' })
  .setClassMethodName('forRoot')
  .setExtras<AuthzModuleExtras>({ isGlobal: true, policyService: undefined }, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal,
  }))
  .build();
