import { readFileSync } from 'node:fs';
import { join } from 'node:path';

// The registry page links to the repository, its README and its issues only if the package says where they are.

const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', 'libs', 'authz', 'package.json'), 'utf8')) as {
  homepage?: string;
  repository?: { type?: string; url?: string; directory?: string };
  bugs?: { url?: string };
};
const REPOSITORY = 'https://github.com/nestjs-authz/nestjs-authz';

describe('the package metadata of nestjs-authz', () => {
  it('should name the git repository, and the folder of the package in it', () => {
    expect(manifest.repository).toEqual({ type: 'git', url: `git+${REPOSITORY}.git`, directory: 'libs/authz' });
  });

  it("should point homepage at the repository's README", () => {
    expect(manifest.homepage).toBe(`${REPOSITORY}#readme`);
  });

  it('should say where bugs go', () => {
    expect(manifest.bugs).toEqual({ url: `${REPOSITORY}/issues` });
  });

  it('should link no registry host', () => {
    for (const url of [manifest.homepage, manifest.repository?.url, manifest.bugs?.url]) expect(url).not.toMatch(/npmjs|registry/);
  });
});
