import type { KeyObject } from 'node:crypto';
import type { AuthzConfig, IssuerConfig } from '../authz.config';
import type { JwtAlgorithm } from '../authz.constants';
import { InvalidTokenException, withoutStack } from '../authz.exceptions';
import { BoundedCache } from '../cache/bounded-cache';
import { deepFreeze } from '../deep-freeze';
import { bindIssuerRules, checkIdentityClaimTypes } from '../identity/identity-mapper';
import { verifySignature } from './algorithms';
import { IssuerRegistry, type CheckedHeader, type VerifyingIssuer } from './issuer-registry';
import type { KeySet } from './key-set';
import type { VerifiedClaims } from './verified-claims';

/** Tokens longer than this are refused before any parsing. */
export const MAX_TOKEN_LENGTH = 16 * 1024;
const MAX_KID_LENGTH = 256;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const ACCESS_TOKEN_TYPE = /^(application\/)?at\+jwt$/i;

// Remembered verifications are filed under the token's last characters (signature bytes) and used only if the
// whole token is identical: hashing 32 characters instead of the whole token on every request. Two tokens that
// share a tail just displace each other; neither is ever answered with the other's claims.
const SLOT_CHARS = 32;
/** Distinct headers whose checks are remembered; the memo starts over when full (a provider sends a handful). */
const MAX_CHECKED_HEADERS = 64;

interface ParsedToken extends CheckedHeader {
  readonly encodedPayload: string;
  readonly signature: Buffer;
  /** Length of the signing input: the header and payload segments with the dot between them. */
  readonly signedLength: number;
  /** With several issuers: the payload, parsed before the signature check to read `iss`. */
  readonly payload?: Record<string, unknown>;
}

interface Remembered {
  readonly token: string;
  readonly claims: VerifiedClaims;
  readonly key: KeyObject;
  /** The key set `key` came from (one per issuer with several issuers). */
  readonly keys: KeySet;
}

/**
 * Verifies a compact JWS access token against the configured issuer, audience, algorithms and key set, by the
 * rules of RFC 8725 and RFC 9068 (see docs/security.md). Every refusal is an {@link InvalidTokenException}
 * with a fixed description that never echoes token content.
 *
 * A verified token is remembered by its exact bytes (bounded count and age); a remembered token still has
 * `exp`/`nbf` checked on every use and is forgotten once its key leaves the key set. Failures are never remembered.
 *
 * With several `issuers`, the token's unverified `iss` only picks the issuer (see {@link IssuerRegistry}); the token
 * is then checked by that issuer's rules and against that issuer's key set alone, and `keys` is not used.
 */
export class TokenVerifier {
  private readonly remembered?: BoundedCache<string, Remembered>;
  private readonly rememberMs: number;
  private readonly signingInput = Buffer.allocUnsafeSlow(MAX_TOKEN_LENGTH);
  /** The one issuer of the single-issuer form. */
  private readonly single?: VerifyingIssuer;
  /** The issuers of the `issuers` option. */
  readonly issuers?: IssuerRegistry;

  constructor(
    private readonly config: AuthzConfig,
    keys: KeySet,
    private readonly now: () => number = Date.now,
  ) {
    this.rememberMs = config.verifiedTokenCache ? config.verifiedTokenCache.maxAgeMs : 0;
    if (config.verifiedTokenCache) this.remembered = new BoundedCache(config.verifiedTokenCache.maxEntries, now);
    if (config.issuers) {
      this.issuers = new IssuerRegistry(config, now, (issuerKeys) => this.forgetRemovedKeys(issuerKeys));
    } else {
      this.single = { rules: config, keys, checkedHeaders: new Map() };
      this.forgetRemovedKeys(keys);
    }
  }

  /** Forget at once what a removed key vouched for (the fast path would refuse it anyway; this frees the memory). */
  private forgetRemovedKeys(keys: KeySet): void {
    const remembered = this.remembered;
    if (remembered) keys.onKeysRemoved((isCurrent) => remembered.clear((_token, entry) => entry.keys === keys && !isCurrent(entry.key)));
  }

  /** Number of remembered verifications (bounded by `verifiedTokenCache.maxEntries`). */
  get rememberedCount(): number {
    return this.remembered?.size ?? 0;
  }

  /**
   * Verifies without waiting: the claims of a remembered token, or of a token signed by a key the key set already
   * holds. Returns `undefined` only when the key set must be downloaded first: then call {@link verify}.
   * Throws {@link InvalidTokenException} like `verify()`.
   *
   * @example
   * const claims = verifier.verifyNow(token) ?? (await verifier.verify(token));
   */
  verifyNow(token: string): VerifiedClaims | undefined {
    const remembered = this.recall(token);
    if (remembered) return remembered;
    const single = this.single;
    if (single) {
      const parsed = this.parse(token, single);
      const key = single.keys.knownKeyFor(parsed.kid, parsed.alg);
      return key && this.finish(token, parsed, key, single);
    }
    const payload = this.unverifiedPayload(token);
    const issuer = this.issuers!.lookup(payload.iss);
    if (issuer === null) untrustedIssuer(payload.iss);
    if (issuer === undefined) return undefined;
    const parsed = this.parse(token, issuer, payload);
    const key = issuer.keys.knownKeyFor(parsed.kid, parsed.alg);
    return key && this.finish(token, parsed, key, issuer);
  }

  /**
   * When this verifier stops accepting a token it verified (ms since the epoch): `exp`, or `iat + maxTokenAge` if
   * sooner, plus `clockTolerance`, by the rules of the token's issuer. For connections that outlive one request (a
   * WebSocket, a GraphQL subscription), which must close then.
   *
   * @example
   * setTimeout(() => socket.close(4401, 'Token expired'), verifier.acceptedUntil(claims) - Date.now());
   */
  acceptedUntil(claims: VerifiedClaims): number {
    const rules = this.single?.rules ?? this.issuers?.lookup(claims.iss)?.rules ?? this.config;
    const tolerance = this.config.clockTolerance;
    let until = (claims.exp + tolerance) * 1000;
    if (rules.maxTokenAge !== undefined && typeof claims.iat === 'number') until = Math.min(until, (claims.iat + rules.maxTokenAge + tolerance) * 1000);
    return until;
  }

  async verify(token: string): Promise<VerifiedClaims> {
    const remembered = this.recall(token);
    if (remembered) return remembered;
    let issuer = this.single;
    let payload: Record<string, unknown> | undefined;
    if (!issuer) {
      payload = this.unverifiedPayload(token);
      const iss = payload.iss;
      const looked = this.issuers!.lookup(iss);
      // `undefined` only for a well-formed `iss` the resolver has not answered for yet.
      const found = looked === undefined ? await this.issuers!.resolve(iss as string) : looked;
      if (!found) untrustedIssuer(iss);
      issuer = found;
    }
    const parsed = this.parse(token, issuer, payload);
    const key = issuer.keys.knownKeyFor(parsed.kid, parsed.alg) ?? (await issuer.keys.keyFor(parsed.kid, parsed.alg));
    return this.finish(token, parsed, key, issuer);
  }

  /**
   * With several issuers: the payload, parsed before the signature is checked, only to read `iss` and so pick the
   * issuer. The token's form is checked first (length, three canonical base64url parts), as {@link parse} does again.
   */
  private unverifiedPayload(token: string): Record<string, unknown> {
    if (token.length > MAX_TOKEN_LENGTH) invalid('The token is too long');
    const firstDot = token.indexOf('.');
    const lastDot = token.lastIndexOf('.');
    if (firstDot < 0 || token.indexOf('.', firstDot + 1) !== lastDot) invalid('The token is not a compact JWS (three base64url parts)');
    const encodedPayload = token.slice(firstDot + 1, lastDot);
    if (!BASE64URL.test(encodedPayload)) invalid('The token is not a compact JWS (three base64url parts)');
    if (!isCanonical(encodedPayload)) invalid('The token is not canonical base64url');
    return parseJsonObject(encodedPayload, 'payload');
  }

  private recall(token: string): VerifiedClaims | undefined {
    if (!this.remembered) return undefined;
    const slot = token.slice(-SLOT_CHARS);
    const hit = this.remembered.get(slot);
    if (!hit || hit.token !== token) return undefined;
    if (!hit.keys.isCurrent(hit.key)) {
      this.remembered.delete(slot);
      return undefined;
    }
    this.checkTimes(hit.claims, this.now() / 1000);
    return hit.claims;
  }

  /** Checks the token's form and header; the payload is left for after the signature. */
  private parse(token: string, issuer: VerifyingIssuer, payload?: Record<string, unknown>): ParsedToken {
    if (token.length > MAX_TOKEN_LENGTH) invalid('The token is too long');
    const firstDot = token.indexOf('.');
    const lastDot = token.lastIndexOf('.');
    if (firstDot < 0 || token.indexOf('.', firstDot + 1) !== lastDot) invalid('The token is not a compact JWS (three base64url parts)');
    const encodedHeader = token.slice(0, firstDot);
    const encodedPayload = token.slice(firstDot + 1, lastDot);
    const encodedSignature = token.slice(lastDot + 1);
    // Base64url characters only, no padding (RFC 7515 §2).
    if (!BASE64URL.test(encodedHeader) || !BASE64URL.test(encodedPayload) || !BASE64URL.test(encodedSignature)) {
      invalid('The token is not a compact JWS (three base64url parts)');
    }
    // One spelling per token: a length of 1 mod 4 (a dangling character the decoder drops) or non-zero unused
    // trailing bits (RFC 4648 §3.5) would give a second string for the same bytes.
    if (!isCanonical(encodedHeader) || !isCanonical(encodedPayload) || !isCanonical(encodedSignature)) {
      invalid('The token is not canonical base64url');
    }
    // Spelled out, with no spread and no loop: those measured about 3 µs per token on the cold path (npm run bench).
    const { alg, kid } = this.checkedHeader(encodedHeader, issuer);
    return { alg, kid, encodedPayload, signature: Buffer.from(encodedSignature, 'base64url'), signedLength: lastDot, payload };
  }

  /** Header checks depend only on the header's bytes and the config, and a provider sends few distinct headers. */
  private checkedHeader(encodedHeader: string, issuer: VerifyingIssuer): CheckedHeader {
    const memo = issuer.checkedHeaders;
    let checked = memo.get(encodedHeader);
    if (!checked) {
      checked = this.checkHeader(parseJsonObject(encodedHeader, 'header'), issuer.rules);
      if (memo.size >= MAX_CHECKED_HEADERS) memo.clear();
      memo.set(encodedHeader, checked);
    }
    return checked;
  }

  private finish(token: string, parsed: ParsedToken, key: KeyObject, issuer: VerifyingIssuer): VerifiedClaims {
    // The signing input is the token's first two segments, as ASCII: written into one reused buffer, not copied anew.
    this.signingInput.write(token, 0, parsed.signedLength, 'latin1');
    if (!verifySignature(parsed.alg, key, this.signingInput.subarray(0, parsed.signedLength), parsed.signature)) {
      invalid('The token signature is invalid');
    }
    // The payload is parsed only once the signature holds: unsigned input never reaches JSON.parse or the claims.
    // With several issuers the payload was parsed to pick the issuer; those are the bytes the signature covers.
    const claims = this.checkClaims(parsed.payload ?? parseJsonObject(parsed.encodedPayload, 'payload'), issuer.rules);
    if (this.remembered) {
      const ttlMs = this.rememberFor(claims, issuer.rules);
      if (ttlMs > 0) this.remembered.set(token.slice(-SLOT_CHARS), { token, claims, key, keys: issuer.keys }, ttlMs);
    }
    return claims;
  }

  /**
   * How long a verification may be remembered: never past `exp`, never past `maxTokenAge` (the fast path rechecks
   * only `exp`/`nbf`), never longer than `verifiedTokenCache.maxAgeMs`.
   */
  private rememberFor(claims: VerifiedClaims, rules: IssuerConfig): number {
    const nowMs = this.now();
    let ttlMs = Math.min(this.rememberMs, claims.exp * 1000 - nowMs);
    if (rules.maxTokenAge !== undefined && claims.iat !== undefined) {
      ttlMs = Math.min(ttlMs, (claims.iat + rules.maxTokenAge) * 1000 - nowMs);
    }
    return ttlMs;
  }

  private checkHeader(header: Record<string, unknown>, rules: IssuerConfig): CheckedHeader {
    const alg = header.alg;
    // Case-sensitive membership: 'none', 'None', 'HS256' or 'rs256' are never in the allow-list.
    if (typeof alg !== 'string' || !(rules.algorithms as readonly string[]).includes(alg)) {
      invalid('The token algorithm is not allowed');
    }
    // No extension is implemented, so any critical one must be refused (RFC 7515 §4.1.11).
    if (header.crit !== undefined) invalid('The token names critical header extensions that are not supported');
    const kid = header.kid;
    if (kid !== undefined && (typeof kid !== 'string' || kid.length === 0 || kid.length > MAX_KID_LENGTH)) {
      invalid('The token kid is malformed');
    }
    if (rules.requireAccessTokenType && (typeof header.typ !== 'string' || !ACCESS_TOKEN_TYPE.test(header.typ))) {
      invalid('The token is not an access token (typ must be at+jwt)');
    }
    // jwk, jku, x5u and x5c are ignored on purpose: keys come only from the configured key set.
    return { alg: alg as JwtAlgorithm, kid: kid as string | undefined };
  }

  private checkClaims(payload: Record<string, unknown>, rules: IssuerConfig): VerifiedClaims {
    const { iss, sub, aud, exp, nbf, iat } = payload;
    if (iss !== undefined && typeof iss !== 'string') invalid('The token iss is not a string');
    if (iss !== rules.issuer) invalid('The token issuer is not trusted');
    // `aud` is a string or a list of strings (RFC 7519 §4.1.3); anything else is refused, even beside our audience.
    if (aud !== undefined && typeof aud !== 'string' && !isStringList(aud)) invalid('The token aud is not a string or a list of strings');
    // Cognito access tokens name their audience only in client_id; `audienceClaim` says which claim binds the token.
    const audiences = rules.audiences;
    if (rules.audienceClaim === 'client_id') {
      if (typeof payload.client_id !== 'string' || !audiences.includes(payload.client_id)) invalid('The token audience is not this API');
    } else if (typeof aud === 'string' ? !audiences.includes(aud) : !(aud as string[] | undefined)?.some((entry) => audiences.includes(entry))) {
      invalid('The token audience is not this API');
    }
    if (typeof sub !== 'string' || sub === '') invalid('The token has no subject (sub)');
    // Scopes, identity roles and client ids the claim mapping reads: a wrong type is refused, never skipped.
    checkIdentityClaimTypes(payload, rules.claims);
    if (!isNumericDate(exp)) invalid('The token has no valid expiry (exp)');
    if (nbf !== undefined && !isNumericDate(nbf)) invalid('The token nbf is not a number');
    if (iat !== undefined && !isNumericDate(iat)) invalid('The token iat is not a number');
    for (const claim of rules.requiredClaims) {
      // Own properties only: 'constructor' or 'toString' are not claims a token carries.
      if (!Object.hasOwn(payload, claim) || payload[claim] === null) invalid('The token lacks a required claim');
    }
    const nowSeconds = this.now() / 1000;
    const tolerance = this.config.clockTolerance;
    if (typeof iat === 'number' && iat > nowSeconds + tolerance) invalid('The token was issued in the future (iat)');
    if (rules.maxTokenAge !== undefined) {
      if (typeof iat !== 'number') invalid('The token has no issue time (iat)');
      if (nowSeconds - iat > rules.maxTokenAge + tolerance) invalid('The token is too old (iat)');
    }
    // With several issuers the identity is mapped by this issuer's claim mapping and names the subject in its namespace.
    if (this.issuers) bindIssuerRules(payload, rules);
    const claims = deepFreeze(payload) as unknown as VerifiedClaims;
    this.checkTimes(claims, nowSeconds);
    return claims;
  }

  private checkTimes(claims: VerifiedClaims, nowSeconds: number): void {
    const tolerance = this.config.clockTolerance;
    if (claims.exp <= nowSeconds - tolerance) invalid('The token has expired');
    if (claims.nbf !== undefined && claims.nbf > nowSeconds + tolerance) invalid('The token is not valid yet (nbf)');
  }
}

/** An `iss` none of the several issuers is: refused before any key is looked for, so nothing is downloaded. */
function untrustedIssuer(iss: unknown): never {
  if (iss === undefined) invalid('The token has no issuer (iss)');
  invalid('The token issuer is not trusted');
}

function invalid(description: string): never {
  throw withoutStack(() => new InvalidTokenException(description));
}

/** Decodes and parses one segment, already checked to hold base64url characters only. */
function parseJsonObject(segment: string, part: 'header' | 'payload'): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    invalid(`The token ${part} is not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) invalid(`The token ${part} is not a JSON object`);
  return value as Record<string, unknown>;
}

function isStringList(value: unknown): value is string[] {
  if (!Array.isArray(value)) return false;
  for (const entry of value) if (typeof entry !== 'string') return false;
  return true;
}

// Base64url alphabet index of each character code (the segment is already checked to hold only these).
const BASE64URL_INDEX = new Uint8Array(128);
for (const [index, char] of [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'].entries()) BASE64URL_INDEX[char.charCodeAt(0)] = index;

/**
 * Whether a base64url segment is the one spelling of its bytes: length not 1 mod 4, and the unused low bits of the
 * last character zero (4 bits when length is 2 mod 4, 2 bits when 3 mod 4). No allocation.
 */
export function isCanonical(segment: string): boolean {
  const rest = segment.length % 4;
  if (rest === 0) return true;
  if (rest === 1) return false;
  const last = BASE64URL_INDEX[segment.charCodeAt(segment.length - 1)];
  return (last & (rest === 2 ? 0x0f : 0x03)) === 0;
}

function isNumericDate(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}
