import { RequestMethod, VersioningType, type INestApplication, type VersioningOptions } from '@nestjs/common';
import { METHOD_METADATA, MODULE_PATH, PATH_METADATA, VERSION_METADATA } from '@nestjs/common/constants';
import { MetadataScanner } from '@nestjs/core';
import { LegacyRouteConverter } from '@nestjs/core/router/legacy-route-converter';
import { RoutePathFactory } from '@nestjs/core/router/route-path-factory';

/** One HTTP route of the app, as @nestjs/swagger names it in `document.paths`. */
export interface AppRoute {
  /** Lower-case HTTP method, as in `document.paths[path][method]`. */
  readonly method: string;
  /** The OpenAPI path, parameters as `{name}`. */
  readonly path: string;
  readonly controller: Function;
  readonly handler: Function;
  readonly handlerName: string;
}

// What @nestjs/swagger lists for a route declared with @All().
const ALL_METHODS = ['get', 'post', 'put', 'delete', 'patch', 'options', 'head', 'search', 'query'];

interface ModuleLike {
  metatype: Function;
  controllers: Map<unknown, { metatype?: Function | null }>;
}

interface AppInternals {
  container: { getModules(): Map<string, ModuleLike> & { applicationId?: string } };
  config: ConstructorParameters<typeof RoutePathFactory>[0] & { getGlobalPrefix(): string; getVersioning(): VersioningOptions | undefined };
}

/**
 * Every controller route of the app with the path @nestjs/swagger gives it: the same inputs (global prefix,
 * RouterModule paths, URI versions, aliases) through Nest's own RoutePathFactory, then the same conversion of
 * path-to-regexp syntax to OpenAPI `{param}` syntax.
 */
export function appRoutes(app: INestApplication, ignoreGlobalPrefix: boolean): AppRoute[] {
  const { container, config } = app as unknown as AppInternals;
  if (!container?.getModules || !config?.getVersioning) {
    throw new TypeError('applyAuthzToOpenApi() needs the Nest application the document was created from (NestFactory.create() or Test...createNestApplication()).');
  }
  const factory = new RoutePathFactory(config);
  const scanner = new MetadataScanner();
  const modules = container.getModules();
  const globalPrefix = ignoreGlobalPrefix ? '' : stripLastSlash(config.getGlobalPrefix() || '');
  const versioningOptions = config.getVersioning();
  const routes: AppRoute[] = [];
  for (const module of modules.values()) {
    const modulePath: string | undefined = Reflect.getMetadata(MODULE_PATH + modules.applicationId, module.metatype) ?? Reflect.getMetadata(MODULE_PATH, module.metatype);
    for (const wrapper of module.controllers.values()) {
      const controller = wrapper.metatype;
      const prototype = controller?.prototype;
      if (!controller || !prototype) continue;
      for (const handlerName of scanner.getAllMethodNames(prototype)) {
        const handler = prototype[handlerName] as Function;
        const methodPath = Reflect.getMetadata(PATH_METADATA, handler);
        if (methodPath === undefined) continue;
        const requestMethod = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod;
        const controllerVersion = versioningOptions?.type === VersioningType.URI ? (Reflect.getMetadata(VERSION_METADATA, controller) ?? versioningOptions.defaultVersion) : undefined;
        const paths = factory.create(
          {
            methodPath,
            methodVersion: Reflect.getMetadata(VERSION_METADATA, handler),
            modulePath,
            globalPrefix,
            controllerVersion,
            ctrlPath: Reflect.getMetadata(PATH_METADATA, controller),
            versioningOptions,
          },
          requestMethod,
        );
        const methods = requestMethod === RequestMethod.ALL ? ALL_METHODS : [RequestMethod[requestMethod].toLowerCase()];
        for (const routePath of paths) {
          const path = toOpenApiPath(routePath) || '/';
          for (const method of methods) routes.push({ method, path, controller, handler, handlerName });
        }
      }
    }
  }
  return routes;
}

/**
 * A Nest route path in OpenAPI syntax, as @nestjs/swagger writes it: `:id` and `*rest` become `{id}` and `{rest}`,
 * optional groups `{...}` are kept without their braces, escapes are resolved.
 */
export function toOpenApiPath(route: string | string[] | undefined): string {
  if (route === undefined) return '';
  const first = Array.isArray(route) ? route[0] : route;
  const converted = LegacyRouteConverter.tryConvert(first, { logs: false })
    .replace(/::/g, '\\:')
    .replace(/\[:\]/g, '\\:')
    .replace(/\(\^([^)]+)\)/g, '');
  let path = '';
  for (let i = 0; i < converted.length; ) {
    const char = converted[i];
    if (char === '\\') {
      path += converted[i + 1] ?? '';
      i += 2;
    } else if (char === '{' || char === '}') {
      i += 1;
    } else if (char === ':' || char === '*') {
      const [name, end] = readName(converted, i + 1);
      path += `{${name}}`;
      i = end;
    } else {
      path += char;
      i += 1;
    }
  }
  if (path === '/' || path === '') return '';
  return path.startsWith('/') ? path : `/${path}`;
}

/** A path-to-regexp parameter name at `start`: an identifier, or a quoted string. */
function readName(path: string, start: number): [string, number] {
  if (path[start] === '"') {
    let name = '';
    let i = start + 1;
    for (; i < path.length && path[i] !== '"'; i += 1) {
      if (path[i] === '\\') i += 1;
      name += path[i] ?? '';
    }
    return [name, i + 1];
  }
  let i = start;
  while (i < path.length && (i === start ? /^[$_\p{ID_Start}]$/u : /^[$\u200c\u200d\p{ID_Continue}]$/u).test(path[i])) i += 1;
  return [path.slice(start, i), i];
}

function stripLastSlash(path: string): string {
  return path.endsWith('/') ? path.slice(0, -1) : path;
}
