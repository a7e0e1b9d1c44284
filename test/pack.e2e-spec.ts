import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = resolve(__dirname, '..');
// Building, packing and starting Nest in a child process take a few seconds, not the usual milliseconds.
const SLOW_STEP_MS = 30_000;

interface Answer {
  status: number;
  challenge: string | null;
  body: Record<string, unknown>;
}

interface AppReport {
  resolved: { library: string; testing: string; admin: string };
  loadedByMain: string[];
  adminModule: string;
  health: Answer;
  noToken: Answer;
  valid: Answer;
  noGrant: Answer;
  foreign: Answer;
}

describe('the packed nestjs-authz', () => {
  let packDir: string;
  let appDir: string;
  let entries: string[];

  beforeAll(async () => {
    packDir = await mkdtemp(join(tmpdir(), 'nestjs-authz-pack-'));
    // Inside the repo (.data/ is ignored by git), so that node finds @nestjs/* and jwks-rsa in the repo's node_modules,
    // as it would find them in a consumer's.
    appDir = join(ROOT, '.data', `pack-${randomBytes(6).toString('hex')}`);
    await run('npm', ['run', 'build', '--silent'], { cwd: ROOT });
    const { stdout } = await run('npm', ['pack', '--workspace', 'libs/authz', '--pack-destination', packDir, '--json', '--silent'], { cwd: ROOT });
    const [packed] = JSON.parse(stdout) as { filename: string }[];
    const tarball = join(packDir, packed.filename);
    entries = (await run('tar', ['-tzf', tarball])).stdout.split('\n').filter(Boolean);
    const installed = join(appDir, 'node_modules', 'nestjs-authz');
    await mkdir(installed, { recursive: true });
    await run('tar', ['-xzf', tarball, '-C', installed, '--strip-components=1']);
    await copyFile(join(ROOT, 'test', 'fixtures', 'pack', 'app.js'), join(appDir, 'app.js'));
  }, SLOW_STEP_MS);

  afterAll(async () => {
    await rm(packDir, { recursive: true, force: true });
    await rm(appDir, { recursive: true, force: true });
  });

  describe('when the tarball is listed', () => {
    it('should contain the JS entry points and their type declarations', () => {
      expect(entries).toEqual(
        expect.arrayContaining([
          'package/package.json',
          'package/dist/index.js',
          'package/dist/index.d.ts',
          'package/dist/testing/index.js',
          'package/dist/testing/index.d.ts',
          'package/dist/admin/index.js',
          'package/dist/admin/index.d.ts',
          'package/dist/openapi/index.js',
          'package/dist/openapi/index.d.ts',
          'package/dist/passport/index.js',
          'package/dist/passport/index.d.ts',
        ]),
      );
    });

    it("should contain the policy console's page where the admin module reads it", () => {
      expect(entries).toEqual(expect.arrayContaining(['package/console/index.html', 'package/console/console.js', 'package/console/console.css', 'package/dist/admin/console/console-files.js']));
    });

    it('should contain no TypeScript sources and no specs', () => {
      const sources = entries.filter((entry) => (entry.endsWith('.ts') && !entry.endsWith('.d.ts')) || entry.startsWith('package/src/'));
      const specs = entries.filter((entry) => /\.(spec|e2e-spec)\.(js|d\.ts|ts)$/.test(entry));
      expect(sources).toEqual([]);
      expect(specs).toEqual([]);
    });
  });

  describe('when a throwaway Nest app requires the packed build', () => {
    let report: AppReport;

    beforeAll(async () => {
      const { stdout } = await run(process.execPath, ['app.js'], { cwd: appDir, timeout: SLOW_STEP_MS });
      report = JSON.parse(stdout.trim().split('\n').pop()!) as AppReport;
    }, SLOW_STEP_MS);

    it('should load nestjs-authz and nestjs-authz/testing from the extracted tarball through package.json exports', () => {
      const installed = join(appDir, 'node_modules', 'nestjs-authz', 'dist') + sep;
      expect(report.resolved.library).toBe(`${installed}index.js`);
      expect(report.resolved.testing).toBe(join(installed, 'testing', 'index.js'));
      expect(report.resolved.admin).toBe(join(installed, 'admin', 'index.js'));
      expect(report.adminModule).toBe('function');
    });

    it('should load none of the optional peers (class-validator, pg, PGlite, yaml) through the main entry point', () => {
      expect(report.loadedByMain).toEqual([]);
    });

    it('should answer 200 to a valid TestTokenIssuer token', () => {
      expect(report.valid).toMatchObject({ status: 200, body: { subject: 'susan', scopes: ['notes:read'] } });
    });

    it('should answer 401 with a bearer challenge to a request without a token', () => {
      expect(report.noToken).toMatchObject({ status: 401, challenge: 'Bearer realm="test-api"' });
    });

    it('should keep the public route open, the policy deciding and foreign tokens out', () => {
      expect(report.health).toMatchObject({ status: 200, body: { status: 'ok' } });
      expect(report.noGrant).toMatchObject({ status: 403, body: { policy: 'note', missingPermissions: ['CanRead'] } });
      expect(report.foreign.status).toBe(401);
      expect(report.foreign.challenge).toContain('error="invalid_token"');
    });
  });
});
