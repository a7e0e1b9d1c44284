import { Controller, Get, Inject, NotFoundException, Param, Req, Res } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { AuthzConfig } from '../../authz.config';
import { AUTHZ_CONFIG } from '../../authz.tokens';
import { Public } from '../../decorators/public.decorator';
import { AUTHZ_ADMIN_CONFIG } from '../admin.constants';
import type { AuthzAdminConfig } from '../authz-admin.options';
import { ConsoleFiles, type ConsoleFile } from './console-files';

/** What the page needs to sign in and to find the API: `GET <path>/console/config.json`. */
export interface ConsoleConfigAnswer {
  readonly issuer: string;
  readonly clientId: string;
  readonly scopes: string;
  /** The admin API's path on this origin, e.g. `/authz`. */
  readonly api: string;
}

/**
 * Serves the policy console (the files of `libs/authz/console`, nothing else) at `<path>/console`, only when
 * `AuthzAdminModule.register({ console })` is given. Public: the page holds no data; it signs in at the identity
 * provider and then calls the admin API with the token, which checks every call as for any other client.
 *
 * @example
 * GET /authz/console → the page (Express also answers /authz/console/; Fastify only with `ignoreTrailingSlash`)
 * GET /authz/console/config.json → { issuer, clientId, scopes, api: "/authz" }
 */
@Public()
@Controller('console')
export class ConsoleController {
  constructor(
    @Inject(AUTHZ_ADMIN_CONFIG) private readonly admin: AuthzAdminConfig,
    @Inject(AUTHZ_CONFIG) private readonly authz: AuthzConfig,
    private readonly files: ConsoleFiles,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  @Get()
  page(@Req() request: unknown, @Res({ passthrough: true }) response: unknown): string {
    const base = consoleBase(request);
    // The page's relative URLs (its script, config.json) and its redirect URI resolve against <base>.
    return this.send(response, this.files.page(base));
  }

  @Get('config.json')
  config(@Req() request: unknown, @Res({ passthrough: true }) response: unknown): ConsoleConfigAnswer {
    const options = this.admin.console!;
    this.headers(response, 'application/json; charset=utf-8');
    return { issuer: options.issuer ?? this.authz.issuer, clientId: options.clientId, scopes: options.scopes!, api: consoleBase(request).replace(/\/console\/$/, '') };
  }

  @Get(':file')
  asset(@Param('file') name: string, @Res({ passthrough: true }) response: unknown): string {
    const file = this.files.asset(name);
    if (!file) throw new NotFoundException(`The console has no file ${JSON.stringify(name)}`);
    return this.send(response, file);
  }

  private send(response: unknown, file: ConsoleFile): string {
    this.headers(response, file.contentType);
    return file.body;
  }

  private headers(response: unknown, contentType: string): void {
    const adapter = this.adapterHost.httpAdapter;
    const issuer = new URL(this.admin.console!.issuer ?? this.authz.issuer).origin;
    adapter.setHeader(response, 'Content-Type', contentType);
    // Scripts and styles of this origin only; the page may talk to this origin and to the identity provider.
    adapter.setHeader(response, 'Content-Security-Policy', `default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' ${issuer}; base-uri 'self'; form-action 'self'; frame-ancestors 'none'`);
    adapter.setHeader(response, 'X-Content-Type-Options', 'nosniff');
    // The authorization code comes back in the URL: never send it on as a Referer.
    adapter.setHeader(response, 'Referrer-Policy', 'no-referrer');
    adapter.setHeader(response, 'Cache-Control', 'no-cache');
  }
}

/** `/<prefix>/<path>/console/` from the request's path, whatever global prefix the app has. */
function consoleBase(request: unknown): string {
  const { originalUrl, url } = request as { originalUrl?: string; url?: string };
  const path = (originalUrl ?? url ?? '/').split('?')[0];
  return `${path.slice(0, path.lastIndexOf('/console'))}/console/`;
}
