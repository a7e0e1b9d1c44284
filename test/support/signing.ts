import { createHmac, createPrivateKey, generateKeyPairSync, sign, constants, type KeyObject } from 'node:crypto';

/** A key pair with its public JWK, for tests that need keys outside the testing kit (rotation, attacks). */
export interface TestKey {
  readonly kid: string;
  readonly alg: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly jwk: Record<string, unknown>;
}

export function makeKey(kid: string, alg: 'RS256' | 'PS256' | 'ES256' | 'ES384' | 'EdDSA' = 'RS256', options: { withAlg?: boolean; modulusLength?: number } = {}): TestKey {
  const pair =
    alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
    : alg === 'ES384' ? generateKeyPairSync('ec', { namedCurve: 'P-384' })
    : alg === 'EdDSA' ? generateKeyPairSync('ed25519')
    : generateKeyPairSync('rsa', { modulusLength: options.modulusLength ?? 2048 });
  const jwk: Record<string, unknown> = { ...pair.publicKey.export({ format: 'jwk' }), kid, use: 'sig' };
  if (options.withAlg !== false) jwk.alg = alg;
  return { kid, alg, privateKey: pair.privateKey, publicKey: pair.publicKey, jwk };
}

export function b64(value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
}

/** Signs `header.payload` with `key` under the algorithm the header names (or `alg` if given), like an attacker could. */
export function signJws(header: Record<string, unknown>, payload: unknown, key: KeyObject | Buffer | string, alg = String(header.alg)): string {
  const input = `${b64(header)}.${b64(payload)}`;
  const data = Buffer.from(input);
  let signature: Buffer;
  switch (alg) {
    case 'RS256': case 'RS384': case 'RS512':
      signature = sign(`sha${alg.slice(2)}`, data, key as KeyObject);
      break;
    case 'PS256': case 'PS384': case 'PS512':
      signature = sign(`sha${alg.slice(2)}`, data, { key: key as KeyObject, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: Number(alg.slice(2)) / 8 });
      break;
    case 'ES256': case 'ES384': case 'ES512':
      signature = sign(`sha${alg.slice(2)}`, data, { key: key as KeyObject, dsaEncoding: 'ieee-p1363' });
      break;
    case 'EdDSA':
      signature = sign(null, data, key as KeyObject);
      break;
    case 'HS256':
      signature = createHmac('sha256', key as Buffer | string).update(input).digest();
      break;
    default:
      signature = Buffer.alloc(0);
  }
  return `${input}.${signature.toString('base64url')}`;
}

/** Standard valid claims for `issuer`/`audience`, overridable. */
export function claims(issuer: string, audience: string | string[], overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return { iss: issuer, aud: audience, sub: 'susan', client_id: 'notes-cli', iat: now, exp: now + 300, jti: `jti-${now}-${Math.random()}`, scope: 'notes:read notes:write', ...overrides };
}

export { createPrivateKey };
