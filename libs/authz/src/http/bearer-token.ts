import { InvalidRequestException, MissingCredentialsException } from '../authz.exceptions';

/** The parts of an HTTP request (Express or Fastify) the extractor reads. */
export interface BearerRequest {
  headers: Record<string, string | string[] | undefined>;
  query?: unknown;
}

// RFC 6750 §2.1: scheme, one or more spaces, one b64token; nothing before or after.
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;
const BEARER_SCHEME = /^Bearer(?: |$)/i;

/**
 * Finds the one bearer token of a request, by RFC 6750 §2: the `Authorization` header, or `?access_token=`
 * where `allowQueryToken` is on. No token → {@link MissingCredentialsException} (401, challenge without an error
 * code); a token in two places or a malformed header → {@link InvalidRequestException} (400).
 */
export function extractBearerToken(request: BearerRequest, allowQueryToken: boolean): string {
  const header = request.headers.authorization;
  const queryToken = queryAccessToken(request.query);

  if (queryToken !== undefined && !allowQueryToken) {
    throw new InvalidRequestException('Access tokens in the query string are not accepted; send an Authorization: Bearer header');
  }
  if (Array.isArray(queryToken)) throw new InvalidRequestException('More than one access_token in the query string');

  if (header === undefined || header === '') {
    if (typeof queryToken === 'string' && queryToken !== '') return queryToken;
    throw new MissingCredentialsException();
  }
  if (typeof header !== 'string') throw new InvalidRequestException('More than one Authorization header');
  if (queryToken !== undefined) throw new InvalidRequestException('The access token was sent in more than one place');
  // Another scheme (Basic, Digest, ...) is no bearer credential: answer with the challenge, like no header at all.
  if (!BEARER_SCHEME.test(header)) throw new MissingCredentialsException();
  const match = BEARER.exec(header);
  if (!match) throw new InvalidRequestException('The Authorization header must be exactly "Bearer <token>"');
  return match[1];
}

function queryAccessToken(query: unknown): string | unknown[] | undefined {
  if (typeof query !== 'object' || query === null || !Object.hasOwn(query, 'access_token')) return undefined;
  const value = (query as Record<string, unknown>).access_token;
  return typeof value === 'string' || Array.isArray(value) ? value : String(value);
}
