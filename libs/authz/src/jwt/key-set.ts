import { Logger } from '@nestjs/common';
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { JwksClient } from 'jwks-rsa';
import type { AuthzConfig, IssuerConfig } from '../authz.config';
import { SUPPORTED_ALGORITHMS, type JwtAlgorithm } from '../authz.constants';
import { AuthzConfigurationError, InvalidTokenException, KeySetUnavailableException, withoutStack } from '../authz.exceptions';
import { keyFitsAlgorithm, MIN_RSA_BITS } from './algorithms';

/** Largest JWKS or discovery body accepted, in bytes; a longer one fails the download. */
export const MAX_DOCUMENT_BYTES = 512 * 1024;
/** Most JWKs a key set may hold; a JWKS with more fails the download (known keys stay). */
export const MAX_KEYS = 100;
/** First wait after a failed download; it doubles with each further failure, up to `jwksCooldownMs`. */
export const FIRST_BACKOFF_MS = 1_000;

/** One usable verification key from the provider's JWKS. */
export interface SigningKey {
  readonly kid?: string;
  /** The JWK's own `alg`, which then is the only algorithm this key verifies. */
  readonly alg?: string;
  readonly key: KeyObject;
}

/**
 * The provider's signing keys, as `KeyObject`s converted once per download (not once per request).
 *
 * - Keys come only from the configured JWKS (or the fixed `jwks` option). A token's `kid` is only compared with
 *   the downloaded keys; its `jwk`, `jku`, `x5u` and `x5c` headers are never looked at.
 * - An unknown `kid` triggers a download, at most one per `jwksCooldownMs` for the whole key set, so a flood of
 *   random `kid`s costs a bounded number of downloads while a freshly rotated key is found within the cooldown.
 *   Requests that arrive while a download is under way wait for it instead of failing.
 * - After a failed download the next one may come after a backoff (1 s, doubling up to `jwksCooldownMs`), so the
 *   keys come back soon after an outage ends while a flood still costs at most one download per backoff step.
 * - Every download, discovery included, ends within `jwksTimeoutMs`; bodies over 512 KiB, more than 100 keys and
 *   redirects fail it. A `jwks_uri` found by discovery is discovered again after a failed download.
 * - After `jwksMaxAgeMs` the set is downloaded again in the background, so a key removed at the provider stops
 *   being trusted within `jwksMaxAgeMs` plus one download.
 * - If a download fails, keys already known keep working; a token whose key is not known gets 503.
 * - A key that is unchanged across downloads stays the same `KeyObject`, so {@link isCurrent} (and the
 *   verifications remembered under it) survive a refresh; a removed key is no longer current.
 * - With a fixed `jwks` option nothing is ever downloaded.
 * - With several `issuers` each issuer has a key set of its own (its own cooldown, bounds and discovery), made by
 *   the {@link TokenVerifier}; the one the module provides for the whole configuration then holds no key and never
 *   downloads.
 *
 * @example
 * const keys = new KeySet(config);
 * const key = await keys.keyFor('key-2024-01', 'RS256'); // 401 if no key fits, 503 if the JWKS cannot be had
 */
export class KeySet {
  private readonly logger = new Logger('AuthzKeySet');
  private keys: readonly SigningKey[] = [];
  private current = new WeakSet<KeyObject>();
  private loadedAt = 0;
  private lastAttemptAt = Number.NEGATIVE_INFINITY;
  /** Failed downloads in a row (0: the last attempt succeeded); the backoff after them is FIRST_BACKOFF_MS doubled this many times less one. */
  private failures = 0;
  private download?: Promise<void>;
  private readonly removalListeners: Array<(isCurrent: (key: KeyObject) => boolean) => void> = [];
  private jwksUri?: string;
  private readonly fixed: boolean;
  /** Downloads so far (discovery excluded); read by tests and the benchmark. */
  downloads = 0;

  constructor(
    private readonly config: IssuerConfig | AuthzConfig,
    private readonly now: () => number = Date.now,
  ) {
    // With several issuers the module-wide key set is inert: each issuer's own key set verifies its tokens.
    if ((config as AuthzConfig).issuers) {
      this.fixed = true;
      return;
    }
    this.fixed = config.keySource.jwks !== undefined;
    this.jwksUri = config.keySource.jwksUri;
    if (config.keySource.jwks) {
      this.install(config.keySource.jwks.keys as unknown[]);
      // A fixed set that verifies nothing would refuse every request: that is a configuration mistake.
      if (this.keys.length === 0) {
        throw new AuthzConfigurationError(
          'option `jwks` holds no usable verification key.',
          "give public signing keys: RSA (2048 bits or more), EC (P-256, P-384, P-521) or OKP (Ed25519, Ed448), without private parts, with `use` 'sig' or none.",
        );
      }
    }
  }

  /** The key to verify a token with header `kid` and `alg`. Throws 401 when none fits, 503 when keys cannot be had. */
  async keyFor(kid: string | undefined, alg: JwtAlgorithm): Promise<KeyObject> {
    if (!this.fixed) {
      if (this.loadedAt === 0) {
        // Nothing known yet: this request has to wait for the first download (or join the one under way).
        if (this.download) await this.download;
        else if (!this.coolingDown()) await this.refresh();
      } else {
        this.refreshIfStale();
      }
    }
    let key = this.find(kid, alg);
    if (!key && !this.fixed) {
      // Perhaps a key rotated in at the provider: look again, at most one download per cooldown.
      if (this.download) await this.download;
      else if (!this.coolingDown()) await this.refresh();
      key = this.find(kid, alg);
    }
    if (key) return key;
    if (!this.fixed && (this.failures > 0 || this.loadedAt === 0)) {
      const retryAfterMs = this.waitMs() - (this.now() - this.lastAttemptAt);
      throw withoutStack(() => new KeySetUnavailableException(Math.max(1, Math.ceil(retryAfterMs / 1000))));
    }
    // Fixed text: the kid is attacker input and is never echoed.
    throw withoutStack(() => new InvalidTokenException(kid === undefined ? 'No single key fits the token; it names no kid' : 'No key of the issuer matches the token kid and alg'));
  }

  /**
   * The key for `kid` and `alg` if the key set already holds it, without waiting; `undefined` when {@link keyFor}
   * must be asked (nothing downloaded yet, or no key fits, which may mean a key rotated in at the provider).
   */
  knownKeyFor(kid: string | undefined, alg: JwtAlgorithm): KeyObject | undefined {
    if (!this.fixed) this.refreshIfStale();
    return this.find(kid, alg);
  }

  /**
   * Whether `key` is still in the provider's key set (remembered verifications are dropped otherwise). Also starts
   * the background refresh once the set is older than `jwksMaxAgeMs`, so that removal is noticed even when every
   * request is answered from remembered verifications.
   */
  isCurrent(key: KeyObject): boolean {
    if (!this.fixed) this.refreshIfStale();
    return this.current.has(key);
  }

  /** Downloads the key set now (one download at a time; concurrent callers share it). Never throws. */
  refresh(): Promise<void> {
    this.download ??= this.downloadKeys().finally(() => (this.download = undefined));
    return this.download;
  }

  /** Calls `listener` after a download in which keys disappeared, with a test for the keys still current. */
  onKeysRemoved(listener: (isCurrent: (key: KeyObject) => boolean) => void): void {
    this.removalListeners.push(listener);
  }

  /** Settles when no download is under way (at once if none is): for tests and orderly shutdown. Never throws. */
  whenIdle(): Promise<void> {
    return this.download ?? Promise.resolve();
  }

  private coolingDown(): boolean {
    return this.now() - this.lastAttemptAt < this.waitMs();
  }

  /** Least time after the last attempt before the next one: the cooldown, or after failures the shorter backoff. */
  private waitMs(): number {
    const cooldownMs = this.config.jwksCooldownMs;
    if (this.failures === 0) return cooldownMs;
    // 2 ** 30 s is far beyond any cooldown: capping the exponent keeps the number finite.
    return Math.min(cooldownMs, FIRST_BACKOFF_MS * 2 ** Math.min(this.failures - 1, 30));
  }

  private refreshIfStale(): void {
    const now = this.now();
    // Stale but usable: refresh without holding this request. Retries after a failure wait for the cooldown, or
    // for the max age if that is shorter, so a removed key is dropped within jwksMaxAgeMs whatever the cooldown.
    const retryMs = Math.min(this.waitMs(), this.config.jwksMaxAgeMs);
    if (this.loadedAt !== 0 && now - this.loadedAt >= this.config.jwksMaxAgeMs && !this.download && now - this.lastAttemptAt >= retryMs) {
      void this.refresh();
    }
  }

  private async downloadKeys(): Promise<void> {
    this.lastAttemptAt = this.now();
    const timeoutMs = this.config.jwksTimeoutMs;
    const abort = new AbortController();
    // One deadline for the whole attempt (discovery and download): jwks-rsa's own timeout is per socket idle period.
    const timer = setTimeout(() => abort.abort(new Error(`fetching the key set took longer than ${timeoutMs} ms`)), timeoutMs);
    try {
      const jwksUri = (this.jwksUri ??= await this.discoverJwksUri(abort.signal));
      this.downloads++;
      const client = new JwksClient({ jwksUri, cache: false, rateLimit: false, fetcher: (uri: string) => fetchJson(uri, abort.signal) as Promise<{ keys: unknown }> });
      const jwks = await client.getKeys();
      if (!Array.isArray(jwks)) throw new Error(`${jwksUri} did not return a JWK Set ({ "keys": [...] })`);
      if (jwks.length > MAX_KEYS) throw new Error(`${jwksUri} lists ${jwks.length} keys, more than ${MAX_KEYS}`);
      this.install(jwks);
      this.failures = 0;
    } catch (error) {
      this.failures++;
      // A discovered jwks_uri may have moved (that may be why it failed): ask discovery again next time.
      if (this.config.keySource.jwksUri === undefined) this.jwksUri = undefined;
      const cause = abort.signal.aborted ? (abort.signal.reason as Error).message : ((error as Error)?.message ?? String(error));
      this.logger.error(`Could not download the signing keys of ${this.config.issuer}: ${cause}. Known keys stay in use.`);
    } finally {
      clearTimeout(timer);
    }
  }

  private async discoverJwksUri(signal: AbortSignal): Promise<string> {
    const url = `${this.config.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
    const document = (await fetchJson(url, signal)) as { issuer?: unknown; jwks_uri?: unknown };
    // OpenID Connect Discovery §4.3: the document must name the same issuer it was fetched for.
    if (document.issuer !== this.config.issuer) throw new Error(`discovery at ${url} names issuer ${JSON.stringify(document.issuer)}, not ${this.config.issuer}`);
    if (typeof document.jwks_uri !== 'string') throw new Error(`discovery at ${url} has no jwks_uri`);
    return document.jwks_uri;
  }

  private install(jwks: unknown[]): void {
    const keys: SigningKey[] = [];
    for (const jwk of jwks) {
      const key = toSigningKey(jwk);
      // Keep the KeyObject of an unchanged key, so that verifications remembered under it stay valid.
      if (key) keys.push(this.keys.find((old) => old.kid === key.kid && old.alg === key.alg && old.key.equals(key.key)) ?? key);
    }
    const removed = this.keys.some((old) => !keys.includes(old));
    this.keys = keys;
    const current = (this.current = new WeakSet(keys.map((entry) => entry.key)));
    this.loadedAt = this.now();
    if (removed) for (const listener of this.removalListeners) listener((key) => current.has(key));
  }

  private find(kid: string | undefined, alg: JwtAlgorithm): KeyObject | undefined {
    const candidates = this.keys.filter(
      (entry) => (kid === undefined || entry.kid === kid) && (entry.alg === undefined || entry.alg === alg) && keyFitsAlgorithm(entry.key, alg),
    );
    // Without a kid, guessing among several keys would let a token pick its key: only a lone candidate is used.
    if (kid === undefined && candidates.length !== 1) return undefined;
    return candidates[0]?.key;
  }
}

/** Converts one JWK into a verification key, or skips it: private parts, encryption keys, unknown types, short RSA. */
function toSigningKey(jwk: unknown): SigningKey | undefined {
  if (typeof jwk !== 'object' || jwk === null) return undefined;
  const { kid, alg, use, kty, d, key_ops: keyOps } = jwk as Record<string, unknown>;
  if (use !== undefined && use !== 'sig') return undefined;
  // RFC 7517 §4.3: a key whose operations are listed must list "verify" to be used for verification.
  if (keyOps !== undefined && (!Array.isArray(keyOps) || !keyOps.includes('verify'))) return undefined;
  if (kty !== 'RSA' && kty !== 'EC' && kty !== 'OKP') return undefined;
  if (d !== undefined) return undefined;
  if (alg !== undefined && !(SUPPORTED_ALGORITHMS as readonly unknown[]).includes(alg)) return undefined;
  if (kid !== undefined && typeof kid !== 'string') return undefined;
  let key: KeyObject;
  try {
    key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
  } catch {
    return undefined;
  }
  if (key.asymmetricKeyType === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) < MIN_RSA_BITS) return undefined;
  return { kid, alg: alg as string | undefined, key };
}

/**
 * GETs a JSON document from the provider; no redirects (keys come only from the configured place), at most
 * {@link MAX_DOCUMENT_BYTES}, read under the attempt's deadline (`signal`), so a slow drip ends at `jwksTimeoutMs`.
 */
async function fetchJson(url: string, signal: AbortSignal): Promise<unknown> {
  const response = await fetch(url, { signal, redirect: 'error', headers: { accept: 'application/json' } });
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    throw new Error(`${url} answered ${response.status}`);
  }
  const tooLarge = () => new Error(`${url} sent more than ${MAX_DOCUMENT_BYTES} bytes`);
  const declared = Number(response.headers.get('content-length') ?? 0);
  if (declared > MAX_DOCUMENT_BYTES) {
    await response.body?.cancel().catch(() => undefined);
    throw tooLarge();
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (response.body) {
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > MAX_DOCUMENT_BYTES) {
        await reader.cancel().catch(() => undefined);
        throw tooLarge();
      }
      chunks.push(value);
    }
  }
  return JSON.parse(Buffer.concat(chunks, size).toString('utf8'));
}
