import { parsePolicyArgs, POLICY_USAGE } from './policy-cli';

describe('parsePolicyArgs', () => {
  it.each([
    [['plan', 'apps/notes/policies'], { command: 'plan', path: 'apps/notes/policies' }],
    [['apply', 'note.yaml'], { command: 'apply', path: 'note.yaml' }],
    [['export', 'backup'], { command: 'export', path: 'backup' }],
  ])('should read %j', (argv, expected) => {
    expect(parsePolicyArgs(argv)).toEqual(expected);
  });

  it.each([[[]], [['--help']], [['-h']]])('should answer %j with the usage', (argv) => {
    expect(() => parsePolicyArgs(argv)).toThrow(POLICY_USAGE);
  });

  it.each([
    [['delete', 'note'], "'delete' is not a command (plan, apply, export)."],
    [['plan'], 'plan needs a policy file or a directory.'],
    [['export'], 'export needs a directory.'],
    [['apply', 'a.json', 'b.json'], "unexpected argument 'b.json'."],
  ])('should say what is wrong with %j, then show the usage', (argv, problem) => {
    expect(() => parsePolicyArgs(argv)).toThrow(`${problem}\n${POLICY_USAGE}`);
  });
});
