import { BadRequestException, ForbiddenException, InternalServerErrorException, UnauthorizedException } from '@nestjs/common';
import { AuthzConfigurationError, InvalidTokenException, KeySetUnavailableException, MissingCredentialsException } from '../authz.exceptions';
import { CREDENTIALS_REFUSED, freezeIdentity, identityProblem, refusalOf, resolvePassportIdentity, StrategyFailure } from './passport-identity';

const toIdentity = () => ({ subject: 's' });

describe('resolvePassportIdentity', () => {
  it('should accept one strategy name or a list, and default hasCredentials to the Authorization header', () => {
    expect(resolvePassportIdentity({ strategy: 'jwt', toIdentity }).strategies).toEqual(['jwt']);
    const resolved = resolvePassportIdentity({ strategy: ['jwt', 'api-key'], toIdentity });
    expect(resolved.strategies).toEqual(['jwt', 'api-key']);
    expect(Object.isFrozen(resolved)).toBe(true);
    expect(resolved.hasCredentials({ headers: { authorization: 'Bearer x' } })).toBe(true);
    expect(resolved.hasCredentials({ headers: { 'x-api-key': 'k' } })).toBe(false);
  });

  it.each([
    ['no options', undefined, /passport options are missing/],
    ['no strategy', { toIdentity }, /`passport.strategy` must be/],
    ['an empty strategy name', { strategy: ' ', toIdentity }, /`passport.strategy` must be/],
    ['an empty list', { strategy: [], toIdentity }, /`passport.strategy` must be/],
    ['a non-string name', { strategy: ['jwt', 7], toIdentity }, /`passport.strategy` must be/],
    ['a name twice', { strategy: ['jwt', 'jwt'], toIdentity }, /names a strategy twice/],
    ['no toIdentity', { strategy: 'jwt' }, /`passport.toIdentity` must be a function/],
    ['a non-function hasCredentials', { strategy: 'jwt', toIdentity, hasCredentials: true }, /`passport.hasCredentials` must be a function/],
  ])('should refuse %s with an AuthzConfigurationError saying how to fix it', (_case, options, message) => {
    expect(() => resolvePassportIdentity(options)).toThrow(AuthzConfigurationError);
    expect(() => resolvePassportIdentity(options)).toThrow(message);
    expect(() => resolvePassportIdentity(options)).toThrow(/How to fix/);
  });
});

describe('identityProblem and freezeIdentity', () => {
  it.each([
    [null, 'it is not an object'],
    [[], 'it is not an object'],
    [{}, '`subject`'],
    [{ subject: '' }, '`subject`'],
    [{ subject: 7 }, '`subject`'],
    [{ subject: 's', scopes: ['a', 3] }, '`scopes`'],
    [{ subject: 's', scopes: [''] }, '`scopes`'],
    [{ subject: 's', roles: 'admin' }, '`roles`'],
    [{ subject: 's', issuer: 1 }, '`issuer`'],
    [{ subject: 's', audience: [null] }, '`audience`'],
    [{ subject: 's', clientId: '' }, '`clientId`'],
    [{ subject: 's', claims: [] }, '`claims`'],
  ])('should find %j malformed', (value, problem) => {
    expect(identityProblem(value)).toContain(problem);
  });

  it('should accept a minimal identity and fill in the defaults, frozen', () => {
    expect(identityProblem({ subject: 's' })).toBeUndefined();
    const identity = freezeIdentity({ subject: 's' });
    expect(identity).toEqual({ subject: 's', issuer: 'passport', audience: [], scopes: [], roles: [], claims: {} });
    expect(Object.isFrozen(identity) && Object.isFrozen(identity.scopes) && Object.isFrozen(identity.claims)).toBe(true);
  });

  it('should split a scope string, make one audience a list, and copy claims before freezing', () => {
    const claims = { sub: 's' };
    const identity = freezeIdentity({ subject: 's', scopes: ' a  b a', audience: 'api', roles: ['r', 'r'], clientId: 'c', claims });
    expect(identity).toMatchObject({ scopes: ['a', 'b'], audience: ['api'], roles: ['r'], clientId: 'c' });
    expect(Object.isFrozen(claims)).toBe(false);
  });
});

describe('refusalOf', () => {
  it('should keep the library\'s refusals', () => {
    const keys = new KeySetUnavailableException(3);
    expect(refusalOf(keys, true)).toBe(keys);
    const own = new InvalidTokenException('The token has expired');
    expect(refusalOf(new StrategyFailure(own), true)).toBe(own);
    expect(refusalOf(new StrategyFailure([new MissingCredentialsException(), own]), true)).toBe(own);
  });

  it('should tell missing from refused credentials when every strategy failed', () => {
    expect(refusalOf(new StrategyFailure(undefined), false)).toBeInstanceOf(MissingCredentialsException);
    expect(refusalOf(new StrategyFailure(new MissingCredentialsException()), false)).toBeInstanceOf(MissingCredentialsException);
    const refused = refusalOf(new StrategyFailure(new Error('jwt expired')), true) as InvalidTokenException;
    expect(refused).toBeInstanceOf(InvalidTokenException);
    expect(refused.description).toBe(CREDENTIALS_REFUSED);
  });

  it('should make a 401 from validate() invalid_token, keep other 4xx, and leave faults to the caller (503)', () => {
    expect(refusalOf(new UnauthorizedException('user disabled'), true)).toBeInstanceOf(InvalidTokenException);
    const forbidden = new ForbiddenException();
    expect(refusalOf(forbidden, true)).toBe(forbidden);
    expect(refusalOf(new BadRequestException(), true)).toBeInstanceOf(BadRequestException);
    expect(refusalOf(new InternalServerErrorException(), true)).toBeUndefined();
    expect(refusalOf(new Error('Unknown authentication strategy "x"'), true)).toBeUndefined();
  });
});
