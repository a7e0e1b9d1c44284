import { InvalidRequestException, MissingCredentialsException, withoutStack } from '../authz.exceptions';

/** The parts of an HTTP request (Express or Fastify) the extractor reads. */
export interface BearerRequest {
  headers: Record<string, string | string[] | undefined>;
  query?: unknown;
  /** The request target; without a `?` there is no query to parse (Express 5 parses `query` on every read). */
  url?: string;
  /** Node's header list as received (Express requests), where a repeated `Authorization` header still shows. */
  rawHeaders?: readonly string[];
  /** Node's request, which Fastify keeps here. */
  raw?: { rawHeaders?: readonly string[] };
}

// RFC 6750 §2.1: scheme, one or more spaces, one b64token; nothing before or after.
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;
// "Bearer" as a whole scheme name (RFC 7230 tchar may not follow): "Bearerx" is another scheme, "Bearer\t" a broken one.
const BEARER_SCHEME = /^Bearer(?![A-Za-z0-9!#$%&'*+.^_`|~-])/i;

/**
 * Finds the one bearer token of a request, by RFC 6750 §2: the `Authorization` header, or `?access_token=`
 * where `allowQueryToken` is on. No token → {@link MissingCredentialsException} (401, challenge without an error
 * code); a token in two places, a repeated header or a malformed header → {@link InvalidRequestException} (400).
 *
 * @example
 * extractBearerToken({ headers: { authorization: 'Bearer eyJ...' } }, false); // 'eyJ...'
 * extractBearerToken({ headers: { authorization: 'Bearer a junk' } }, false); // throws 400 invalid_request
 */
export function extractBearerToken(request: BearerRequest, allowQueryToken: boolean): string {
  const header = request.headers.authorization;
  const queryToken = request.url === undefined || request.url.includes('?') ? queryAccessToken(request.query) : undefined;

  if (queryToken !== undefined && !allowQueryToken) {
    throw withoutStack(() => new InvalidRequestException('Access tokens in the query string are not accepted; send an Authorization: Bearer header'));
  }
  if (Array.isArray(queryToken)) throw withoutStack(() => new InvalidRequestException('More than one access_token in the query string'));

  if (header === undefined || header === '') {
    if (typeof queryToken === 'string' && queryToken !== '') return queryToken;
    throw withoutStack(() => new MissingCredentialsException());
  }
  // Node keeps only the first of repeated Authorization headers; the raw list still shows the others.
  if (typeof header !== 'string' || authorizationHeaderCount(request) > 1) throw withoutStack(() => new InvalidRequestException('More than one Authorization header'));
  if (queryToken !== undefined) throw withoutStack(() => new InvalidRequestException('The access token was sent in more than one place'));
  // Another scheme (Basic, Digest, ...) is no bearer credential: answer with the challenge, like no header at all.
  if (!BEARER_SCHEME.test(header)) throw withoutStack(() => new MissingCredentialsException());
  const match = BEARER.exec(header);
  if (!match) throw withoutStack(() => new InvalidRequestException('The Authorization header must be exactly "Bearer <token>"'));
  return match[1];
}

/**
 * Whether the request carries `access_token` in its query string (whatever its value, one or several): such a
 * request's answer, refusals included, must not be stored by caches (RFC 6750 §2.3), since the URL holds a token.
 */
export function hasQueryAccessToken(request: BearerRequest): boolean {
  if (request.url !== undefined && !request.url.includes('?')) return false;
  return queryAccessToken(request.query) !== undefined;
}

function authorizationHeaderCount(request: BearerRequest): number {
  const raw = request.rawHeaders ?? request.raw?.rawHeaders;
  if (!raw) return 1;
  let count = 0;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i].length === 13 && raw[i].toLowerCase() === 'authorization') count++;
  }
  return count;
}

function queryAccessToken(query: unknown): string | unknown[] | undefined {
  if (typeof query !== 'object' || query === null || !Object.hasOwn(query, 'access_token')) return undefined;
  const value = (query as Record<string, unknown>).access_token;
  return typeof value === 'string' || Array.isArray(value) ? value : String(value);
}
