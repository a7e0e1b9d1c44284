import { join } from 'node:path';
import ts from 'typescript';

// Types that match behaviour, checked by the TypeScript compiler itself (jest's transform does not type-check):
// snippets a newcomer writes, compiled against the library's sources with the repository's tsconfig.json.

const ROOT = join(__dirname, '..', '..');

const SNIPPETS = {
  moduleOptionsExtras: `
    import { AuthzModule, PolicyService } from 'nestjs-authz';
    import { TestTokenIssuer } from 'nestjs-authz/testing';
    class Mine extends PolicyService { async hasPermission() { return true; } }
    const issuer = TestTokenIssuer.create();
    export const module = AuthzModule.forRoot(issuer.moduleOptions({ defaultPolicy: 'note', policyService: Mine, isGlobal: false }));
  `,
  currentIdentityField: `
    import { Controller, Get } from '@nestjs/common';
    import { CurrentIdentity, type AuthzIdentity } from 'nestjs-authz';
    @Controller()
    export class C {
      @Get() whole(@CurrentIdentity() identity: AuthzIdentity) { return identity.subject; }
      @Get('s') subject(@CurrentIdentity('subject') subject: AuthzIdentity['subject']) { return subject; }
      @Get('r') roles(@CurrentIdentity('roles') roles: AuthzIdentity['roles']) { return roles; }
    }
  `,
  currentIdentityTypo: `
    import { Controller, Get } from '@nestjs/common';
    import { CurrentIdentity } from 'nestjs-authz';
    @Controller()
    export class C {
      @Get() subject(@CurrentIdentity('subjet') subject: string) { return subject; }
    }
  `,
  currentIdentityNotAKey: `
    import { Controller, Get } from '@nestjs/common';
    import { CurrentIdentity } from 'nestjs-authz';
    @Controller()
    export class C {
      @Get() subject(@CurrentIdentity({ field: 'subject' }) subject: string) { return subject; }
    }
  `,
  policyNamesOptional: `
    import { PolicyService } from 'nestjs-authz';
    export class Sync extends PolicyService { async hasPermission() { return true; } override policyNames() { return ['note']; } }
    export class Async extends PolicyService { async hasPermission() { return true; } override async policyNames() { return ['note']; } }
    export class Without extends PolicyService { async hasPermission() { return true; } }
  `,
} as const;

type Snippet = keyof typeof SNIPPETS;

const fileOf = (name: Snippet) => join(ROOT, 'test', 'newcomer', `__snippet_${name}.ts`).replace(/\\/g, '/');

let diagnostics: Map<Snippet, string[]>;

beforeAll(() => {
  const parsed = ts.getParsedCommandLineOfConfigFile(join(ROOT, 'tsconfig.json'), { noEmit: true }, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined })!;
  const sources = new Map(Object.entries(SNIPPETS).map(([name, text]) => [fileOf(name as Snippet), text]));
  const host = ts.createCompilerHost(parsed.options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (fileName, language, ...rest) =>
    sources.has(fileName) ? ts.createSourceFile(fileName, sources.get(fileName)!, language) : getSourceFile(fileName, language, ...rest);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (fileName) => sources.has(fileName) || fileExists(fileName);
  const program = ts.createProgram({ rootNames: [...sources.keys()], options: parsed.options, host });
  diagnostics = new Map(
    (Object.keys(SNIPPETS) as Snippet[]).map((name) => [
      name,
      ts.getPreEmitDiagnostics(program, program.getSourceFile(fileOf(name))).map((d) => `TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`),
    ]),
  );
}, 30_000);

describe('types that match behaviour', () => {
  it('should let TestTokenIssuer.moduleOptions() take the module extras (policyService, isGlobal)', () => {
    expect(diagnostics.get('moduleOptionsExtras')).toEqual([]);
  });

  it('should type @CurrentIdentity() and @CurrentIdentity(key) for a field of AuthzIdentity', () => {
    expect(diagnostics.get('currentIdentityField')).toEqual([]);
  });

  it('should refuse @CurrentIdentity() with a name that is no field of AuthzIdentity', () => {
    expect(diagnostics.get('currentIdentityTypo')).toEqual([expect.stringMatching(/^TS2345: .*'"subjet"'/)]);
  });

  it('should refuse @CurrentIdentity() with anything but a field name', () => {
    expect(diagnostics.get('currentIdentityNotAKey')).toEqual([expect.stringMatching(/^TS2345: /)]);
  });

  it('should let a custom PolicyService implement policyNames() in sync or async form, or leave it out', () => {
    expect(diagnostics.get('policyNamesOptional')).toEqual([]);
  });
});
