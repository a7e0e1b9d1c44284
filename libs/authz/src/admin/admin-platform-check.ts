import { Injectable, Logger, type HttpServer, type OnApplicationBootstrap } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { MAX_NAME_LENGTH } from '../policy/names';

/**
 * Warns at start when the HTTP platform cannot route every valid name: Fastify matches a route parameter only up to
 * `maxParamLength` characters (default 100), so a longer policy, subject, role or resource name (names may have up
 * to 255, see `MAX_NAME_LENGTH`) is refused (Fastify: 414 URI Too Long) before it reaches the admin API.
 *
 * @example
 * // main.ts on Fastify: let names of up to 255 characters (and longer ones, to be refused with 400) reach the API
 * NestFactory.create(AppModule, new FastifyAdapter({ routerOptions: { maxParamLength: 1000 } }));
 */
@Injectable()
export class AdminPlatformCheck implements OnApplicationBootstrap {
  private readonly logger = new Logger('AuthzAdmin');

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  onApplicationBootstrap(): void {
    // Optional in Nest's HttpServer contract: a platform without it has no limit the admin API knows of.
    const adapter = this.adapterHost.httpAdapter as (HttpServer & object) | undefined;
    const limit = adapter?.getRouteMatchingOptions?.().maxParamLength;
    if (limit !== undefined && limit < MAX_NAME_LENGTH) {
      this.logger.warn(
        `The HTTP router matches route parameters of at most ${limit} characters, so names longer than that (up to ${MAX_NAME_LENGTH} are valid) are refused before they reach the admin API. ` +
          'How to fix: on Fastify, create the adapter with `new FastifyAdapter({ routerOptions: { maxParamLength: 1000 } })`.',
      );
    }
  }
}
