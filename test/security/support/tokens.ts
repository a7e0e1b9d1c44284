import type { KeyObject } from 'node:crypto';
import { b64, makeKey, signJws, type TestKey } from '../../support/signing';
import { AUDIENCE } from './security-app';

export type Claims = Record<string, unknown>;

/**
 * Mints tokens for one issuer, like its provider would, and lets a test bend any part: header, claims, key, alg.
 * Times come from `now()` so they agree with an injected clock. Every token gets a fresh `jti`, so no two are the
 * same bytes (a repeated token would be answered from the verifier's memory).
 */
export class TokenFactory {
  private serial = 0;

  constructor(
    readonly issuer: string,
    readonly key: TestKey,
    private readonly now: () => number = Date.now,
  ) {}

  nowSeconds(): number {
    return Math.floor(this.now() / 1000);
  }

  /** Valid claims for this issuer and {@link AUDIENCE}; `undefined` in `overrides` removes a claim. */
  claims(overrides: Claims = {}): Claims {
    const now = this.nowSeconds();
    const base: Claims = { iss: this.issuer, aud: AUDIENCE, sub: 'susan', client_id: 'notes-cli', iat: now, exp: now + 300, jti: `jti-${++this.serial}-${now}`, scope: 'notes:read' };
    const merged: Claims = { ...base, ...overrides };
    for (const name of Object.keys(merged)) if (merged[name] === undefined) delete merged[name];
    return merged;
  }

  /** A token signed with this factory's key (or `key`), header `alg: RS256, typ: at+jwt, kid` unless overridden. */
  sign(overrides: Claims = {}, header: Claims = {}, key: TestKey = this.key): string {
    const fullHeader: Claims = { alg: key.alg, typ: 'at+jwt', kid: key.kid, ...header };
    for (const name of Object.keys(fullHeader)) if (fullHeader[name] === undefined) delete fullHeader[name];
    return signJws(fullHeader, this.claims(overrides), key.privateKey, key.alg);
  }

  /** Signs any payload (even a non-object) under any header, with any key and algorithm. */
  signRaw(header: Claims, payload: unknown, key: KeyObject | Buffer | string = this.key.privateKey, alg = String(header.alg)): string {
    return signJws(header, payload, key, alg);
  }
}

/** header.payload with a chosen signature segment: for unsigned or garbage-signed tokens. */
export function unsigned(header: Claims, payload: unknown, signature = ''): string {
  return `${b64(header)}.${b64(payload)}.${signature}`;
}

export { makeKey, type TestKey };
