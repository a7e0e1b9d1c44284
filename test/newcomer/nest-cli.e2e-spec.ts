import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { FIRST_DATABASE_TIMEOUT_MS, freshDataDir } from '../support/embedded-postgres';

// What a Nest user types in this monorepo: `nest build authz`, `nest build notes`, `nest start notes` (nest-cli.json),
// through the npm scripts that use them. The builds and the app run in child processes, as from a terminal.

const run = promisify(execFile);
const ROOT = resolve(__dirname, '..', '..');
const NEST = join(ROOT, 'node_modules', '@nestjs', 'cli', 'bin', 'nest.js');
// Type-checking and emitting the library and the app take a few seconds each.
const BUILD_MS = 60_000;

/** The environment of a local start on free ports: no external provider, no PostgreSQL server. */
function localEnv(dataDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0', LOCAL_OIDC_PORT: '0', DATA_DIR: dataDir, HOST: '127.0.0.1' };
  for (const name of Object.keys(env)) {
    if (name.startsWith('OIDC_') || name.startsWith('AUTHZ_') || name === 'DATABASE_URL') delete env[name];
  }
  return env;
}

/** Resolves with the API's URL once the banner is out; rejects if the process ends first. */
function apiUrlFromBanner(child: ChildProcess): Promise<string> {
  return new Promise((resolveUrl, reject) => {
    let stdout = '';
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const url = /^Notes API +(http:\/\/\S+)/m.exec(stdout)?.[1];
      if (url && stdout.includes('Stop with Ctrl+C.')) resolveUrl(url);
    });
    child.once('exit', (code, signal) => reject(new Error(`exited (${code ?? signal}) before its banner:\n${stdout}\n${stderr}`)));
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolveCode) => child.once('exit', (code) => resolveCode(code)));
}

async function health(url: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${url}/health`);
  return { status: res.status, body: await res.json() };
}

describe('the Nest CLI in this monorepo (nest-cli.json)', () => {
  beforeAll(async () => {
    // `nest build authz && nest build notes`, as `npm start` runs them.
    await run('npm', ['run', 'build:notes', '--silent'], { cwd: ROOT, timeout: BUILD_MS });
  }, BUILD_MS);

  describe('when `npm run build:notes` has run', () => {
    it('should leave the library in libs/authz/dist, where its package.json points', () => {
      for (const file of ['index.js', 'index.d.ts', 'testing/index.js', 'admin/index.js', 'admin/console/console-files.js']) {
        expect(existsSync(join(ROOT, 'libs', 'authz', 'dist', file))).toBe(true);
      }
    });

    it('should leave the app in dist/notes, importing the built library rather than compiling its sources again', () => {
      for (const file of ['main.js', 'token.js', 'policy.js']) {
        expect(existsSync(join(ROOT, 'dist', 'notes', 'apps', 'notes', 'src', file))).toBe(true);
      }
      // A `libs/` here would mean an import of libs/authz/src: a second copy of the library, without its console/.
      expect(readdirSync(join(ROOT, 'dist', 'notes'))).toEqual(['apps']);
    });
  });

  // `npm start` is `npm run build && nest start notes --no-shell`: the CLI builds the app, then runs
  // node dist/notes/apps/notes/src/main (its outDir + sourceRoot + entryFile).
  describe('when `nest start notes --no-shell` runs on free ports', () => {
    let data: Awaited<ReturnType<typeof freshDataDir>>;
    let cli: ChildProcess | undefined;

    beforeAll(async () => {
      data = await freshDataDir();
    }, FIRST_DATABASE_TIMEOUT_MS);

    afterAll(async () => {
      if (cli && cli.exitCode === null) {
        cli.kill('SIGKILL');
        await exited(cli);
      }
      await data?.remove();
    });

    it('should answer /health at the URL of its banner, and stop the app with the CLI on SIGTERM', async () => {
      cli = spawn(process.execPath, [NEST, 'start', 'notes', '--no-shell'], { cwd: ROOT, env: localEnv(data.dataDir), stdio: ['ignore', 'pipe', 'pipe'] });
      const url = await apiUrlFromBanner(cli);
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      await expect(health(url)).resolves.toEqual({ status: 200, body: { status: 'ok' } });
      // The CLI passes the signal on and exits with the app: nothing is left listening.
      cli.kill('SIGTERM');
      await expect(exited(cli)).resolves.toBe(0);
      await expect(fetch(`${url}/health`)).rejects.toThrow();
    }, BUILD_MS);
  });

  describe('when the app does not type-check', () => {
    const dir = join(ROOT, '.data', `nest-cli-${randomBytes(6).toString('hex')}`);

    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('should fail `nest build notes` as `tsc -p` would, naming the error', async () => {
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'broken.ts'), "export const port: number = '3000';\n");
      const config = { extends: join(ROOT, 'apps', 'notes', 'tsconfig.app.json'), compilerOptions: { rootDir: '.', outDir: './out' }, include: ['broken.ts'] };
      await writeFile(join(dir, 'tsconfig.json'), JSON.stringify(config));
      const failed = await run(process.execPath, [NEST, 'build', 'notes', '--path', relative(ROOT, join(dir, 'tsconfig.json'))], { cwd: ROOT, timeout: BUILD_MS }).then(
        () => undefined,
        (error: { code?: number; stdout?: string; stderr?: string }) => error,
      );
      expect(failed?.code).toBe(1);
      expect(`${failed?.stdout}${failed?.stderr}`).toContain('TS2322');
    }, BUILD_MS);
  });
});
