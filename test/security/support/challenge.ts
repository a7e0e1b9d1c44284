import { AUDIENCE } from './security-app';

/**
 * The exact answers of RFC 6750 §3, as the guard must send them. Descriptions are the library's fixed texts:
 * a test that expects one also proves that nothing of the attacker's input was echoed.
 */
export const challenge = {
  /** 401 without credentials: the challenge names the realm and no error code. */
  missingCredentials: `Bearer realm="${AUDIENCE}"`,
  invalidToken: (description: string) => `Bearer realm="${AUDIENCE}", error="invalid_token", error_description="${description}"`,
  invalidRequest: (description: string) => `Bearer realm="${AUDIENCE}", error="invalid_request", error_description="${description}"`,
  insufficientScope: (description: string, scopes: string) =>
    `Bearer realm="${AUDIENCE}", error="insufficient_scope", error_description="${description}", scope="${scopes}"`,
};

/** The verifier's refusal texts (libs/authz/src/jwt/*.ts). */
export const Refusal = {
  tooLong: 'The token is too long',
  notCompact: 'The token is not a compact JWS (three base64url parts)',
  notCanonical: 'The token is not canonical base64url',
  headerNotJson: 'The token header is not JSON',
  headerNotObject: 'The token header is not a JSON object',
  payloadNotJson: 'The token payload is not JSON',
  payloadNotObject: 'The token payload is not a JSON object',
  algorithm: 'The token algorithm is not allowed',
  crit: 'The token names critical header extensions that are not supported',
  kidMalformed: 'The token kid is malformed',
  notAccessToken: 'The token is not an access token (typ must be at+jwt)',
  noKeyWithoutKid: 'No single key fits the token; it names no kid',
  noKey: 'No key of the issuer matches the token kid and alg',
  signature: 'The token signature is invalid',
  issuer: 'The token issuer is not trusted',
  audience: 'The token audience is not this API',
  audType: 'The token aud is not a string or a list of strings',
  issType: 'The token iss is not a string',
  scopeType: 'The token scope claim is not a string or a list of strings',
  roleType: 'The token role claim is not a string or a list of strings',
  clientIdType: 'The token client id claim is not a string',
  subject: 'The token has no subject (sub)',
  expiry: 'The token has no valid expiry (exp)',
  nbfNotNumber: 'The token nbf is not a number',
  iatNotNumber: 'The token iat is not a number',
  requiredClaim: 'The token lacks a required claim',
  iatFuture: 'The token was issued in the future (iat)',
  noIat: 'The token has no issue time (iat)',
  tooOld: 'The token is too old (iat)',
  expired: 'The token has expired',
  notYetValid: 'The token is not valid yet (nbf)',
} as const;

/** The extractor's refusal texts (libs/authz/src/http/bearer-token.ts), as they appear in the challenge. */
export const BadRequest = {
  queryNotAccepted: 'Access tokens in the query string are not accepted; send an Authorization: Bearer header',
  twoQueryTokens: 'More than one access_token in the query string',
  twoHeaders: 'More than one Authorization header',
  twoPlaces: 'The access token was sent in more than one place',
  // The library's text quotes "Bearer <token>"; RFC 6750 §3 forbids '"' inside the quoted description, so it is dropped.
  syntax: 'The Authorization header must be exactly Bearer <token>',
} as const;

export const KEYS_UNAVAILABLE = "The identity provider's signing keys are unavailable; try again later";
