import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { NOTES_POLICY_DIR, notesAppRoot } from './notes-policy-store';

describe('NOTES_POLICY_DIR', () => {
  it('should be apps/notes/policies of this repository, found from the sources', () => {
    expect(NOTES_POLICY_DIR).toBe(resolve(__dirname, '..', '..', 'policies'));
    expect(existsSync(join(NOTES_POLICY_DIR, 'note.json'))).toBe(true);
  });

  it('should be found from the build too, which mirrors the repository under dist/notes', () => {
    const repo = resolve(__dirname, '..', '..', '..', '..');
    expect(notesAppRoot(join(repo, 'dist', 'notes', 'apps', 'notes', 'src', 'authz'))).toBe(join(repo, 'apps', 'notes'));
    expect(notesAppRoot(join(repo, 'apps', 'notes', 'src', 'authz'))).toBe(join(repo, 'apps', 'notes'));
  });
});
