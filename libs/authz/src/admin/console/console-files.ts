import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { AuthzConfigurationError } from '../../authz.exceptions';
import { AUTHZ_ADMIN_CONFIG } from '../admin.constants';
import type { AuthzAdminConfig } from '../authz-admin.options';

/** One file of the console as it is sent. */
export interface ConsoleFile {
  readonly contentType: string;
  readonly body: string;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** The package's `console/` directory, from `src/admin/console` (sources) and `dist/admin/console` (build) alike. */
export const CONSOLE_DIR = join(__dirname, '..', '..', '..', 'console');

/**
 * The console's files, read once at start: a request can only ever get one of them (no paths, no other
 * directory). `index.html` names its base as `%BASE%`, filled in per request.
 *
 * @example
 * files.asset('console.js'); // { contentType: 'text/javascript; charset=utf-8', body: '...' }
 */
@Injectable()
export class ConsoleFiles implements OnModuleInit {
  private readonly files = new Map<string, ConsoleFile>();

  constructor(@Inject(AUTHZ_ADMIN_CONFIG) private readonly config: AuthzAdminConfig) {}

  async onModuleInit(): Promise<void> {
    if (!this.config.console) return;
    let names: string[];
    try {
      names = await readdir(CONSOLE_DIR);
    } catch (error) {
      throw new AuthzConfigurationError(
        `AuthzAdminModule: the console's files are missing (${(error as Error).message}).`,
        'reinstall nestjs-authz (its package holds a console/ directory), or leave out the `console` option.',
      );
    }
    for (const name of names) {
      const contentType = CONTENT_TYPES[extname(name)];
      if (contentType) this.files.set(name, { contentType, body: await readFile(join(CONSOLE_DIR, name), 'utf8') });
    }
    if (!this.files.has('index.html')) {
      throw new AuthzConfigurationError(`AuthzAdminModule: ${CONSOLE_DIR} has no index.html.`, 'reinstall nestjs-authz, or leave out the `console` option.');
    }
  }

  /** The page, its base filled in (HTML-escaped). */
  page(base: string): ConsoleFile {
    const page = this.files.get('index.html')!;
    return { ...page, body: page.body.replaceAll('%BASE%', escapeHtml(base)) };
  }

  /** A file other than the page, or `undefined`. */
  asset(name: string): ConsoleFile | undefined {
    return name === 'index.html' ? undefined : this.files.get(name);
  }
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
