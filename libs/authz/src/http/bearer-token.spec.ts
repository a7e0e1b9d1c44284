import { InvalidRequestException, MissingCredentialsException } from '../authz.exceptions';
import { extractBearerToken, hasQueryAccessToken, type BearerRequest } from './bearer-token';

const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzdXNhbiJ9.c2lnbmF0dXJl';

function extract(authorization: string | string[] | undefined, extra: Partial<BearerRequest> = {}, allowQueryToken = false) {
  return extractBearerToken({ headers: { authorization }, ...extra }, allowQueryToken);
}

function refusal(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a refusal');
}

describe('extractBearerToken', () => {
  describe('when the header is well-formed', () => {
    it.each([`Bearer ${TOKEN}`, `bearer ${TOKEN}`, `BEARER ${TOKEN}`, `Bearer    ${TOKEN}`])('should return the token of %j', (header) => {
      expect(extract(header)).toBe(TOKEN);
    });

    it('should accept b64token characters and trailing = (RFC 6750 §2.1)', () => {
      expect(extract('Bearer a-b.c_d~e+f/g==')).toBe('a-b.c_d~e+f/g==');
    });
  });

  describe('when there are no bearer credentials', () => {
    it.each([
      ['no header', undefined],
      ['an empty header', ''],
      ['Basic', 'Basic dXNlcjpwYXNz'],
      ['a scheme that starts like Bearer', `Bearerx ${TOKEN}`],
    ])('should throw MissingCredentialsException for %s', (_case, header) => {
      expect(refusal(() => extract(header))).toBeInstanceOf(MissingCredentialsException);
    });
  });

  describe('when the header is malformed', () => {
    it.each([
      ['the scheme alone', 'Bearer'],
      ['a tab', `Bearer\t${TOKEN}`],
      ['a comma', `Bearer,${TOKEN}`],
      ['trailing junk', `Bearer ${TOKEN} junk`],
      ['two credentials', `Bearer ${TOKEN}, Bearer ${TOKEN}`],
      ['inner padding', 'Bearer ab=c'],
      ['a quote', `Bearer "${TOKEN}"`],
      ['non-ASCII', `Bearer ${TOKEN}\u00e9`],
    ])('should throw 400 invalid_request for %s', (_case, header) => {
      const error = refusal(() => extract(header));
      expect(error).toBeInstanceOf(InvalidRequestException);
      expect((error as InvalidRequestException).getStatus()).toBe(400);
    });

    it('should refuse a header Node delivered as a list', () => {
      expect(refusal(() => extract([`Bearer ${TOKEN}`, `Bearer ${TOKEN}`]))).toBeInstanceOf(InvalidRequestException);
    });

    it('should see a repeated Authorization header in Express rawHeaders', () => {
      const rawHeaders = ['Host', 'x', 'Authorization', `Bearer ${TOKEN}`, 'authorization', 'Basic x'];
      const error = refusal(() => extract(`Bearer ${TOKEN}`, { rawHeaders }));
      expect((error as InvalidRequestException).description).toBe('More than one Authorization header');
    });

    it('should see a repeated Authorization header in Fastify raw.rawHeaders', () => {
      const raw = { rawHeaders: ['AUTHORIZATION', `Bearer ${TOKEN}`, 'Authorization', `Bearer ${TOKEN}`] };
      expect(refusal(() => extract(`Bearer ${TOKEN}`, { raw }))).toBeInstanceOf(InvalidRequestException);
    });

    it('should accept a single Authorization header in rawHeaders', () => {
      expect(extract(`Bearer ${TOKEN}`, { rawHeaders: ['Authorization', `Bearer ${TOKEN}`, 'X-Authorization', 'other'] })).toBe(TOKEN);
    });
  });

  describe('query-string tokens', () => {
    it('should refuse ?access_token= unless allowed', () => {
      const error = refusal(() => extract(undefined, { query: { access_token: TOKEN } }));
      expect((error as InvalidRequestException).description).toBe('Access tokens in the query string are not accepted; send an Authorization: Bearer header');
    });

    it('should take the query token when allowed and no header is sent', () => {
      expect(extract(undefined, { query: { access_token: TOKEN } }, true)).toBe(TOKEN);
    });

    it('should refuse a token in both places, and two query tokens', () => {
      expect((refusal(() => extract(`Bearer ${TOKEN}`, { query: { access_token: TOKEN } }, true)) as InvalidRequestException).description).toBe(
        'The access token was sent in more than one place',
      );
      expect((refusal(() => extract(undefined, { query: { access_token: [TOKEN, TOKEN] } }, true)) as InvalidRequestException).description).toBe(
        'More than one access_token in the query string',
      );
    });

    it('should ignore a query parameter that only looks like access_token', () => {
      expect(extract(`Bearer ${TOKEN}`, { query: { access_token_hint: 'x', ACCESS_TOKEN: 'y' } })).toBe(TOKEN);
    });

    it('should not read inherited properties as a query token', () => {
      expect(extract(`Bearer ${TOKEN}`, { query: Object.create({ access_token: TOKEN }) })).toBe(TOKEN);
    });
  });

  describe('hasQueryAccessToken (Cache-Control: no-store, RFC 6750 §2.3)', () => {
    it.each([
      ['a query token', { url: '/x?access_token=t', query: { access_token: TOKEN } }, true],
      ['an empty query token', { url: '/x?access_token=', query: { access_token: '' } }, true],
      ['two query tokens', { url: '/x?access_token=a&access_token=b', query: { access_token: ['a', 'b'] } }, true],
      ['no query', { url: '/x', query: {} }, false],
      ['another parameter', { url: '/x?token=t', query: { token: TOKEN } }, false],
      ['an inherited access_token', { url: '/x?y=1', query: Object.create({ access_token: TOKEN }) }, false],
    ])('should answer for %s', (_case, request, expected) => {
      expect(hasQueryAccessToken({ headers: {}, ...request })).toBe(expected);
    });
  });
});
