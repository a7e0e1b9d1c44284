import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { INestApplication, LoggerService } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import * as authz from 'nestjs-authz';
import { PolicyService } from 'nestjs-authz';
import { TestTokenIssuer } from 'nestjs-authz/testing';
import { AppModule } from '../../examples/readme/app.module';
import { AppModule as AsyncAppModule } from '../../examples/readme/app.module.async';
import { HealthController, NotesController } from '../../examples/readme/notes/notes.controller';
import { NotesService } from '../../examples/readme/notes/notes.service';
import { RemotePolicyService } from '../../examples/readme/remote-policy.service';

// Every TypeScript block of README "1."–"7." and of docs/policy-store.md is a file under examples/, which `npm test`
// type-checks (tsconfig.json includes examples/). The line above a block names its file:
//   <!-- example: examples/readme/app.module.ts -->          the block is the whole file
//   <!-- example: examples/readme/app.module.ts#name -->     the block is what lies between `// #region name` and
//                                                            `// #endregion` in that file
// Here the blocks must be exactly their files, and the modules of "1." run with the controllers of "2.".
// README "8. Testing your app" is checked against its test files by readme-testing.e2e-spec.ts.

const ROOT = join(__dirname, '..', '..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

interface Block {
  doc: string;
  line: number;
  example?: string;
  code: string;
}

function tsBlocks(doc: string, from?: string, to?: string): Block[] {
  let text = read(doc);
  let offset = 0;
  if (from !== undefined) {
    offset = text.indexOf(from);
    expect(offset).toBeGreaterThan(-1);
    const end = to === undefined ? text.length : text.indexOf(to, offset);
    expect(end).toBeGreaterThan(offset);
    text = text.slice(offset, end);
  }
  return [...text.matchAll(/^```(?:ts|typescript|tsx)\n([\s\S]*?)^```$/gm)].map((match) => {
    const before = text.slice(0, match.index).split('\n');
    const marker = /^<!-- example: (\S+) -->$/.exec(before[before.length - 2] ?? '');
    const line = read(doc).slice(0, offset + match.index).split('\n').length;
    return { doc, line, example: marker?.[1], code: match[1] };
  });
}

function regionOf(text: string, region: string, where: string): string {
  const lines = text.split('\n');
  const start = lines.findIndex((line) => line.trim() === `// #region ${region}`);
  const end = lines.findIndex((line, index) => start >= 0 && index > start && line.trim() === '// #endregion');
  if (start < 0 || end < 0) throw new Error(`${where} has no region ${region}`);
  return lines.slice(start + 1, end).join('\n') + '\n';
}

function exampleText(example: string): string {
  const [path, region] = example.split('#');
  return region === undefined ? read(path) : regionOf(read(path), region, path);
}

const blocks = [
  ...tsBlocks('README.md', '## Using the library', '### 8. Testing your app'),
  ...tsBlocks('docs/policy-store.md'),
];

describe('the TypeScript blocks of README 1.–7. and docs/policy-store.md', () => {
  it('should find the blocks', () => {
    expect(blocks.filter((block) => block.doc === 'README.md').length).toBeGreaterThanOrEqual(6);
    expect(blocks.filter((block) => block.doc === 'docs/policy-store.md').length).toBeGreaterThanOrEqual(1);
  });

  it.each(blocks.map((block) => [`${block.doc}:${block.line}`, block] as const))(
    'should show block %s exactly as its file under examples/ has it',
    (_where, block) => {
      expect(block.example).toMatch(/^examples\/[\w./-]+\.ts(#[\w-]+)?$/);
      expect(existsSync(join(ROOT, block.example!.split('#')[0]))).toBe(true);
      expect(block.code).toBe(exampleText(block.example!));
    },
  );

  it('should cut a `// #region name` excerpt as the marker `#name` says', () => {
    const file = "import { Module } from '@nestjs/common';\n\n// #region options\nconst options = { audience: 'notes-api' };\n// #endregion\n";
    expect(regionOf(file, 'options', 'file')).toBe("const options = { audience: 'notes-api' };\n");
    expect(() => regionOf(file, 'other', 'file')).toThrow('file has no region other');
  });

  it('should have npm test type-check examples/', () => {
    const tsconfig = JSON.parse(read('tsconfig.json')) as { include: string[] };
    expect(tsconfig.include).toContain('examples/**/*.ts');
    expect(JSON.parse(read('package.json')).scripts.test).toMatch(/npm run typecheck/);
  });

  it("should import every name of nestjs-authz a block uses (else TypeScript may take the DOM's Permissions)", () => {
    const names = Object.keys(authz);
    for (const block of blocks) {
      const lines = block.code.split('\n');
      const imports = lines.filter((line) => line.startsWith('import ')).join('\n');
      const body = lines
        .filter((line) => !line.startsWith('import '))
        .map((line) => line.replace(/(^|\s)\/\/.*$/, ''))
        .join('\n');
      for (const name of names) {
        if (new RegExp(`\\b${name}\\b`).test(body)) expect([block.example, name, imports]).toEqual([block.example, name, expect.stringMatching(new RegExp(`\\b${name}\\b`))]);
      }
    }
  });
});

class Warnings implements LoggerService {
  readonly warnings: string[] = [];
  log() {}
  error(message: unknown) {
    this.warnings.push(String(message));
  }
  warn(message: unknown) {
    this.warnings.push(String(message));
  }
}

describe('README 1. and 2.: the module with the controllers, trusting a TestTokenIssuer', () => {
  const issuer = TestTokenIssuer.create({ audience: 'notes-api' });
  const logger = new Warnings();
  let app: INestApplication;
  const bearer = (sub: string, scopes: string[], roles?: string[]) => issuer.sign({ sub, scopes, roles });

  beforeAll(async () => {
    const moduleRef = await issuer
      .override(Test.createTestingModule({ imports: [AppModule], controllers: [NotesController, HealthController], providers: [NotesService] }))
      .compile();
    app = await moduleRef.createNestApplication({ logger }).init();
  });

  afterAll(async () => {
    await app?.close();
  });

  it('should start without a warning', () => {
    expect(logger.warnings).toEqual([]);
  });

  it('should answer the @Public() health route without a token', async () => {
    await request(app.getHttpServer()).get('/health').expect(200, { status: 'ok' });
  });

  it('should filter with permissionsOf: susan holds CanReadConfidentialNotes, alice does not', async () => {
    const susan = await request(app.getHttpServer()).get('/notes').auth(bearer('susan', ['notes:read']), { type: 'bearer' }).expect(200);
    expect(susan.body.map((note: { title: string }) => note.title)).toEqual(['Welcome', 'Salaries']);
    const alice = await request(app.getHttpServer()).get('/notes').auth(bearer('alice', ['notes:read']), { type: 'bearer' }).expect(200);
    expect(alice.body.map((note: { title: string }) => note.title)).toEqual(['Welcome']);
  });

  it('should refuse what the rules say', async () => {
    const server = app.getHttpServer();
    await request(server).get('/notes').expect(401);
    const bob = await request(server).get('/notes').auth(bearer('bob', ['notes:read']), { type: 'bearer' }).expect(403);
    expect(bob.body).toMatchObject({ policy: 'note', missingPermissions: ['CanRead'] });
    // DELETE needs notes:read (class) and notes:write or notes:admin (handler), and CanDelete or CanModerate.
    await request(server).delete('/notes/1').auth(bearer('carol', ['notes:write'], ['notes-admin']), { type: 'bearer' }).expect(403);
    await request(server).delete('/notes/1').auth(bearer('carol', ['notes:read'], ['notes-admin']), { type: 'bearer' }).expect(403);
    await request(server).delete('/notes/1').auth(bearer('alice', ['notes:read', 'notes:write']), { type: 'bearer' }).expect(403);
    await request(server).delete('/notes/1').auth(bearer('carol', ['notes:read', 'notes:admin'], ['notes-admin']), { type: 'bearer' }).expect(200);
  });
});

describe('README 1. forRootAsync with the RemotePolicyService of 3.', () => {
  const issuer = TestTokenIssuer.create({ audience: 'notes-api' });
  const saved = { ...process.env };
  let app: INestApplication;
  let fetchSpy: jest.SpyInstance;

  beforeAll(async () => {
    Object.assign(process.env, { OIDC_ISSUER: 'https://login.example.com/', OIDC_CLAIMS: 'default' });
    delete process.env.OIDC_AUDIENCE;
    fetchSpy = jest.spyOn(globalThis, 'fetch').mockImplementation(async (_url, init) => {
      const { subject } = JSON.parse(String(init?.body)) as { subject: string };
      return new Response(JSON.stringify({ allowed: subject === 'susan' }), { status: 200 });
    });
    const moduleRef = await issuer
      .override(Test.createTestingModule({ imports: [AsyncAppModule], controllers: [NotesController], providers: [NotesService] }))
      .compile();
    app = await moduleRef.createNestApplication({ logger: false }).init();
  });

  afterAll(async () => {
    await app?.close();
    fetchSpy?.mockRestore();
    process.env = saved;
  });

  it('should give the guard and business code the RemotePolicyService', async () => {
    expect(app.get(PolicyService)).toBeInstanceOf(RemotePolicyService);
    const res = await request(app.getHttpServer()).get('/notes').auth(issuer.sign({ sub: 'susan', scopes: ['notes:read'] }), { type: 'bearer' }).expect(200);
    expect(res.body).toHaveLength(2);
    expect(fetchSpy).toHaveBeenCalledWith('https://policy.internal.example.com/check', expect.objectContaining({ method: 'POST' }));
    await request(app.getHttpServer()).get('/notes').auth(issuer.sign({ sub: 'bob', scopes: ['notes:read'] }), { type: 'bearer' }).expect(403);
  });
});
