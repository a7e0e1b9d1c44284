import { parseTokenArgs, TOKEN_USAGE } from './token-cli';

describe('parseTokenArgs', () => {
  it('should read a demo user and optional scopes', () => {
    expect(parseTokenArgs(['susan'])).toEqual({ kind: 'user', user: 'susan', scopes: [] });
    expect(parseTokenArgs(['alice', 'notes:read'])).toEqual({ kind: 'user', user: 'alice', scopes: ['notes:read'] });
  });

  it('should read --client for a client-credentials token', () => {
    expect(parseTokenArgs(['--client', 'notes:write'])).toEqual({ kind: 'client', scopes: ['notes:write'] });
  });

  it.each([[[]], [['--help']], [['-h']]])('should answer %j with the usage', (argv) => {
    expect(() => parseTokenArgs(argv)).toThrow(TOKEN_USAGE);
  });

  it('should name a user that is not a demo user, then show the usage', () => {
    expect(() => parseTokenArgs(['mallory'])).toThrow(`'mallory' is not a demo user.\n${TOKEN_USAGE}`);
  });
});
