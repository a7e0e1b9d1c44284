import { readFileSync } from 'node:fs';
import { join } from 'node:path';

// README "8. Testing your app" shows test files of this repository and its jest setup: they must agree, so that
// what the README shows is what CI runs.

const ROOT = join(__dirname, '..', '..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

function sectionBlocks(): Array<{ lang: string; code: string }> {
  const readme = read('README.md');
  const start = readme.indexOf('### 8. Testing your app');
  const end = readme.indexOf('\n## ', start);
  expect(start).toBeGreaterThan(-1);
  const section = readme.slice(start, end);
  return [...section.matchAll(/```(\w+)\n([\s\S]*?)```/g)].map(([, lang, code]) => ({ lang, code }));
}

describe('README section 8. Testing your app', () => {
  const blocks = sectionBlocks();

  it.each([
    [0, 'test/newcomer/real-app.e2e-spec.ts'],
    [1, 'test/newcomer/real-app-policy-double.e2e-spec.ts'],
    [2, 'examples/readme/test/notes.controller.e2e-spec.ts'],
  ])('should show block %i exactly as %s runs it', (index, path) => {
    expect(blocks[index]?.code).toBe(read(path));
  });

  it('should import everything each TypeScript block uses from the library', () => {
    for (const { code } of blocks.filter((block) => block.lang === 'ts')) {
      for (const name of ['Test', 'request', 'TestTokenIssuer']) expect(code).toMatch(new RegExp(`import .*\\b${name}\\b.* from `));
    }
  });

  it("should state the transform and transformIgnorePatterns of this repository's jest.config.js", () => {
    const block = blocks.find((candidate) => candidate.lang === 'js');
    const module = { exports: {} as { transform?: unknown; transformIgnorePatterns?: unknown } };
    new Function('module', block!.code)(module);
    const repository = require(join(ROOT, 'jest.config.js')) as { projects: Array<{ transform: unknown; transformIgnorePatterns: unknown }> };
    for (const project of repository.projects) {
      expect(module.exports.transform).toEqual(project.transform);
      expect(module.exports.transformIgnorePatterns).toEqual(project.transformIgnorePatterns);
    }
  });
});
