import { Logger } from '@nestjs/common';
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { JwksClient } from 'jwks-rsa';
import type { AuthzConfig } from '../authz.config';
import { SUPPORTED_ALGORITHMS, type JwtAlgorithm } from '../authz.constants';
import { InvalidTokenException, KeySetUnavailableException } from '../authz.exceptions';
import { keyFitsAlgorithm, MIN_RSA_BITS } from './algorithms';

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
 * - An unknown `kid` triggers a download, at most one per `jwksCooldownMs` for the whole key set, so a flood of
 *   random `kid`s costs a bounded number of downloads while a freshly rotated key is found within the cooldown.
 * - After `jwksMaxAgeMs` the set is downloaded again in the background, so a key removed at the provider stops
 *   being trusted within that time plus one download.
 * - If a download fails, keys already known keep working; a token whose key is not known gets 503.
 * - With a fixed `jwks` option nothing is ever downloaded.
 */
export class KeySet {
  private readonly logger = new Logger('AuthzKeySet');
  private keys: readonly SigningKey[] = [];
  private current = new WeakSet<KeyObject>();
  private loadedAt = 0;
  private lastAttemptAt = Number.NEGATIVE_INFINITY;
  private lastAttemptFailed = false;
  private download?: Promise<void>;
  private jwksUri?: string;
  private readonly fixed: boolean;
  /** Downloads so far (discovery excluded); read by tests and the benchmark. */
  downloads = 0;

  constructor(
    private readonly config: AuthzConfig,
    private readonly now: () => number = Date.now,
  ) {
    this.fixed = config.keySource.jwks !== undefined;
    this.jwksUri = config.keySource.jwksUri;
    if (config.keySource.jwks) this.install(config.keySource.jwks.keys as unknown[]);
  }

  /** The key to verify a token with header `kid` and `alg`. Throws 401 when none fits, 503 when keys cannot be had. */
  async keyFor(kid: string | undefined, alg: JwtAlgorithm): Promise<KeyObject> {
    if (!this.fixed) {
      const now = this.now();
      const coolingDown = now - this.lastAttemptAt < this.config.jwksCooldownMs;
      if (this.loadedAt === 0 && !coolingDown) {
        await this.refresh();
      } else if (this.loadedAt !== 0 && now - this.loadedAt >= this.config.jwksMaxAgeMs && !coolingDown) {
        // Stale but usable: refresh without holding this request.
        this.refresh().catch(() => undefined);
      }
    }
    let key = this.find(kid, alg);
    if (!key && !this.fixed && this.now() - this.lastAttemptAt >= this.config.jwksCooldownMs) {
      await this.refresh();
      key = this.find(kid, alg);
    }
    if (key) return key;
    if (!this.fixed && (this.lastAttemptFailed || this.loadedAt === 0)) {
      const retryAfterMs = this.config.jwksCooldownMs - (this.now() - this.lastAttemptAt);
      throw new KeySetUnavailableException(Math.max(1, Math.ceil(retryAfterMs / 1000)));
    }
    throw new InvalidTokenException(kid === undefined ? 'No single key fits the token; it names no kid' : 'No key of the issuer matches the token kid and alg');
  }

  /** Whether `key` is still in the provider's key set (remembered verifications are dropped otherwise). */
  isCurrent(key: KeyObject): boolean {
    return this.current.has(key);
  }

  /** Downloads the key set now (one download at a time; concurrent callers share it). Never throws. */
  refresh(): Promise<void> {
    this.download ??= this.downloadKeys().finally(() => (this.download = undefined));
    return this.download;
  }

  private async downloadKeys(): Promise<void> {
    this.lastAttemptAt = this.now();
    try {
      const jwksUri = (this.jwksUri ??= await this.discoverJwksUri());
      this.downloads++;
      const client = new JwksClient({ jwksUri, timeout: this.config.jwksTimeoutMs, cache: false, rateLimit: false });
      const jwks = await withDeadline(client.getKeys(), this.config.jwksTimeoutMs, `JWKS download from ${jwksUri}`);
      if (!Array.isArray(jwks)) throw new Error(`${jwksUri} did not return a JWK Set ({ "keys": [...] })`);
      this.install(jwks);
      this.lastAttemptFailed = false;
    } catch (error) {
      this.lastAttemptFailed = true;
      this.logger.error(`Could not download the signing keys of ${this.config.issuer}: ${(error as Error)?.message ?? error}. Known keys stay in use.`);
    }
  }

  private async discoverJwksUri(): Promise<string> {
    const url = `${this.config.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
    const response = await fetch(url, { signal: AbortSignal.timeout(this.config.jwksTimeoutMs), redirect: 'error' });
    if (!response.ok) throw new Error(`discovery at ${url} answered ${response.status}`);
    const document = (await response.json()) as { issuer?: unknown; jwks_uri?: unknown };
    // OpenID Connect Discovery §4.3: the document must name the same issuer it was fetched for.
    if (document.issuer !== this.config.issuer) throw new Error(`discovery at ${url} names issuer ${JSON.stringify(document.issuer)}, not ${this.config.issuer}`);
    if (typeof document.jwks_uri !== 'string') throw new Error(`discovery at ${url} has no jwks_uri`);
    return document.jwks_uri;
  }

  private install(jwks: unknown[]): void {
    const keys: SigningKey[] = [];
    for (const jwk of jwks) {
      const key = toSigningKey(jwk);
      if (key) keys.push(key);
    }
    this.keys = keys;
    this.current = new WeakSet(keys.map((entry) => entry.key));
    this.loadedAt = this.now();
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
  const { kid, alg, use, kty, d } = jwk as Record<string, unknown>;
  if (use !== undefined && use !== 'sig') return undefined;
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

function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
