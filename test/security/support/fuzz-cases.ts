import { b64 } from '../../support/signing';
import { BASE64URL_ALPHABET, HEADER_ALPHABET, type Prng } from './prng';

/** One generated request: the Authorization header value and whether it could legitimately pass (200). */
export interface FuzzCase {
  readonly authorization: string;
  /** True only when the header still carries a valid token character for character (one spelling per token). */
  readonly mayPass: boolean;
}

// Weighted towards Bearer and a space, so that most cases reach the token verifier rather than the header parser.
const SCHEMES = ['Bearer', 'Bearer', 'Bearer', 'Bearer', 'bearer', 'BEARER', 'Basic', 'Digest', 'DPoP', 'Token', 'Bearerx', 'Bear', '', 'Bearer,', 'Bearer:'];
const SEPARATORS = [' ', ' ', ' ', ' ', '  ', '\t', '', ',', ' , ', ':', '='];
const SUFFIXES = ['', '', '', ' junk', ', Bearer x', '=', '==', ' ', '\t', ',', ';', '.'];

/** Random Authorization headers: schemes, separators, credentials and trailers mixed at random. */
export function authorizationHeaderCase(prng: Prng, validTokens: readonly string[]): FuzzCase {
  const scheme = prng.pick(SCHEMES);
  const separator = prng.pick(SEPARATORS);
  const suffix = prng.pick(SUFFIXES);
  let credential: string;
  let carriesValidToken = false;
  switch (prng.int(0, 5)) {
    case 0:
      credential = prng.string(BASE64URL_ALPHABET + '.~+/=', prng.int(0, 400));
      break;
    case 5:
      credential = Array.from({ length: 3 }, () => prng.string(BASE64URL_ALPHABET, prng.int(1, 120))).join('.');
      break;
    case 1:
      credential = prng.string(HEADER_ALPHABET, prng.int(0, 200));
      break;
    case 2:
      credential = prng.pick(validTokens);
      carriesValidToken = true;
      break;
    case 3:
      credential = Array.from({ length: prng.int(0, 6) }, () => prng.string(BASE64URL_ALPHABET, prng.int(0, 60))).join(prng.pick(['.', '..', ' ', '']));
      break;
    default:
      credential = `${prng.pick(validTokens)}${prng.pick(SEPARATORS)}${prng.pick(validTokens)}`;
  }
  // What an HTTP client sends: leading and trailing whitespace is dropped from header values.
  const authorization = `${scheme}${separator}${credential}${suffix}`.replace(/^[ \t]+|[ \t]+$/g, '');
  const mayPass = carriesValidToken && new RegExp(`^Bearer +${escape(credential)}$`, 'i').test(authorization);
  return { authorization, mayPass };
}

/** A valid token bent by one to three mutations: characters, segments, re-encoded headers and claims. */
export function tokenMutationCase(prng: Prng, validTokens: readonly string[], hostileHeaders: readonly Record<string, unknown>[], hostileClaims: readonly Record<string, unknown>[]): FuzzCase {
  const original = prng.pick(validTokens);
  let token = original;
  for (let i = prng.int(1, 3); i > 0; i--) token = mutate(prng, token, hostileHeaders, hostileClaims);
  return { authorization: `Bearer ${token}`, mayPass: sameSignedBytes(token, original) };
}

function mutate(prng: Prng, token: string, hostileHeaders: readonly Record<string, unknown>[], hostileClaims: readonly Record<string, unknown>[]): string {
  const parts = token.split('.');
  const at = prng.int(0, Math.max(0, token.length - 1));
  switch (prng.int(0, 11)) {
    case 0: // change one character
      return token.slice(0, at) + prng.pick([...BASE64URL_ALPHABET]) + token.slice(at + 1);
    case 1: // delete one character
      return token.slice(0, at) + token.slice(at + 1);
    case 2: // insert one character, sometimes outside base64url
      return token.slice(0, at) + prng.pick([...BASE64URL_ALPHABET, '.', '=', '+', '/', '~']) + token.slice(at);
    case 3: // truncate
      return token.slice(0, at);
    case 4: // drop, duplicate or swap segments
      return prng.pick([
        parts.slice(1).join('.'),
        [...parts, parts[prng.int(0, parts.length - 1)]].join('.'),
        [parts[1], parts[0], ...parts.slice(2)].join('.'),
        parts.slice(0, -1).join('.'),
      ]);
    case 5: // a hostile header, the original payload and signature
      return [b64(prng.pick(hostileHeaders)), ...parts.slice(1)].join('.');
    case 6: // hostile claims under the original header and signature
      return [parts[0], b64(prng.pick(hostileClaims)), ...parts.slice(2)].join('.');
    case 7: // a random signature of a plausible length
      return [...parts.slice(0, 2), prng.string(BASE64URL_ALPHABET, prng.pick([0, 1, 86, 342, 343, 683]))].join('.');
    case 8: // case changes
      return token.slice(0, at) + token.slice(at, at + 8).toUpperCase() + token.slice(at + 8);
    case 9: // base64 padding and stray dots
      return prng.pick([`${token}=`, `${token}.`, `.${token}`, token.replace('.', '=.'), token.replace('.', '..')]);
    case 10: // a header that is not JSON, or JSON that is not an object
      return [b64(prng.pick(['', '{', 'null', '[]', '"RS256"', '{"alg":"RS256"', '\u0000'])), ...parts.slice(1)].join('.');
    default: // another valid token's signature
      return [...parts.slice(0, 2), prng.string(BASE64URL_ALPHABET, 342)].join('.');
  }
}

/**
 * Whether `token` may pass: only the token exactly as issued. Another spelling of the same bytes (a dangling
 * character, unused low bits set) must be refused, so a mutation that lands on one and gets 200 is a failure.
 */
function sameSignedBytes(token: string, original: string): boolean {
  return token === original;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Raw bytes for an Authorization header value, control characters and non-ASCII included (no CR or LF, which
 * would end the header line; Node's parser decides what the rest means).
 */
export function rawHeaderBytes(prng: Prng): Buffer {
  const bytes = Buffer.alloc(prng.int(0, 300));
  for (let i = 0; i < bytes.length; i++) {
    let byte = prng.int(0, 255);
    if (byte === 0x0d || byte === 0x0a) byte = 0x20;
    bytes[i] = byte;
  }
  return Buffer.concat([Buffer.from(prng.pick(['Bearer ', 'bearer ', '', 'Basic '])), bytes]);
}
