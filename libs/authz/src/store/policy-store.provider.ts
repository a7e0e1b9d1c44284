import { Injectable, type OnApplicationShutdown, type Provider, type Type } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { AuthzConfig } from '../authz.config';
import { AuthzConfigurationError } from '../authz.exceptions';
import { AUTHZ_MODULE_OPTIONS } from '../authz.module-definition';
import type { AuthzModuleOptions } from '../authz.options';
import { AUTHZ_CONFIG } from '../authz.tokens';
import { InMemoryPolicyStore } from './in-memory-policy-store';
import { PolicyStore } from './policy-store';

/** The module's PolicyStore: the `policyStore` option (instance, class or factory), else the `policies` in memory. */
export const policyStoreProvider: Provider = {
  provide: PolicyStore,
  useFactory: async (options: AuthzModuleOptions, config: AuthzConfig, moduleRef: ModuleRef): Promise<PolicyStore> => {
    const given = options.policyStore;
    if (given === undefined) return new InMemoryPolicyStore(config.policies);
    if (given instanceof PolicyStore) return given;
    const store = given.prototype instanceof PolicyStore ? await moduleRef.create(given as Type<PolicyStore>) : await (given as () => PolicyStore | Promise<PolicyStore>)();
    if (!(store instanceof PolicyStore)) {
      throw new AuthzConfigurationError('the `policyStore` factory did not return a PolicyStore.', 'return an instance of a class that extends PolicyStore (e.g. PostgresPolicyStore.open(...)).');
    }
    return store;
  },
  inject: [AUTHZ_MODULE_OPTIONS, AUTHZ_CONFIG, ModuleRef],
};

/** Closes the policy store (its connections, its change feed) once the app has stopped serving. */
@Injectable()
export class PolicyStoreLifecycle implements OnApplicationShutdown {
  constructor(private readonly store: PolicyStore) {}

  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}
