import { All, Controller, Delete, Get, Patch, Post, Put, VersioningType, type INestApplication } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { ApiResponse } from '@nestjs/swagger';
import { Test } from '@nestjs/testing';
import { AuthzGuard, AuthzModule, Permissions, Policy, Public, Resource, Scopes } from 'nestjs-authz';
import { TestTokenIssuer } from 'nestjs-authz/testing';
import type { Adapter } from '../../support/app';

/** Class-level scopes plus handler scopes: they add up. */
@Scopes('notes:read')
@Controller('notes')
export class NotesController {
  @Get()
  list() {}

  @Scopes.anyOf('notes:write', 'notes:admin')
  @Post()
  create() {}

  @Scopes('notes:write')
  @Scopes.anyOf('notes:admin', 'notes:owner')
  @Delete(':id')
  remove() {}
}

/** Public handlers next to an undecorated route (valid token only). */
@Controller('health')
export class HealthController {
  @Public()
  @Get()
  health() {}

  @Get('details')
  details() {}

  @Public()
  @Get('files/:name')
  file() {}

  @All('echo')
  echo() {}
}

/** A public controller. */
@Public()
@Controller('pages')
export class PagesController {
  @Get()
  index() {}

  @Get(':slug')
  page() {}
}

/** Permissions with the default policy, @Policy on class and handler, @Resource from a parameter and from a function. */
@Policy('record')
@Controller('records')
export class RecordsController {
  @Permissions('CanRead')
  @Resource('id')
  @Get(':id')
  read() {}

  @Permissions.anyOf('CanDelete', 'CanModerate')
  @Resource((request: { params: { id?: string } }) => request.params.id)
  @Delete(':id')
  remove() {}

  @Policy('admin')
  @Permissions('CanAudit')
  @Get()
  audit() {}

  @Scopes('records:write')
  @Permissions('CanEdit', 'CanPublish')
  @Resource('id')
  @ApiResponse({ status: 403, description: 'Documented by the app itself.' })
  @Put(':id')
  replace() {}
}

/** @Permissions without @Policy: the module's defaultPolicy. */
@Controller('defaults')
export class DefaultsController {
  @Permissions('CanRead')
  @Get()
  read() {}
}

/** A base controller, mounted itself, and a subclass that adds requirements. */
@Scopes('base:read')
@Policy('record')
@Controller('base')
export class BaseController {
  @Get()
  list() {}

  @Permissions('CanEdit')
  @Patch(':id')
  edit() {}
}

@Scopes.anyOf('sub:a', 'sub:b')
@Controller('sub')
export class SubController extends BaseController {
  @Scopes('sub:extra')
  @Put()
  replace() {}
}

/** URI versioning. */
@Scopes('things:read')
@Controller({ path: 'things', version: '2' })
export class ThingsController {
  @Get(':id')
  read() {}
}

export const CONTROLLERS = [NotesController, HealthController, PagesController, RecordsController, DefaultsController, BaseController, SubController, ThingsController];

const roles = { member: ['CanRead', 'CanEdit', 'CanPublish', 'CanDelete', 'CanModerate', 'CanAudit'] };

/** The fixture app on the chosen adapter, with global prefix `api` and URI versioning, initialised. */
export async function createOpenApiApp(adapter: Adapter, options: { globalPrefix?: string } = {}): Promise<INestApplication> {
  const issuer = TestTokenIssuer.create();
  const moduleRef = await Test.createTestingModule({
    imports: [
      AuthzModule.forRoot(
        issuer.moduleOptions({
          defaultPolicy: 'note',
          policies: { note: { roles }, record: { roles }, admin: { roles } },
        }),
      ),
    ],
    controllers: CONTROLLERS,
    providers: [{ provide: APP_GUARD, useClass: AuthzGuard }],
  }).compile();
  const app = adapter === 'fastify' ? moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false }) : moduleRef.createNestApplication({ logger: false });
  if (options.globalPrefix !== undefined) app.setGlobalPrefix(options.globalPrefix);
  app.enableVersioning({ type: VersioningType.URI });
  await app.init();
  return app;
}
