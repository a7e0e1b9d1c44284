import { constants, verify, type KeyObject } from 'node:crypto';
import type { JwtAlgorithm } from '../authz.constants';

interface AlgorithmSpec {
  /** Digest for node:crypto, or null where the algorithm has its own (EdDSA). */
  readonly hash: string | null;
  /** `KeyObject.asymmetricKeyType` values this algorithm may be used with. */
  readonly keyTypes: readonly string[];
  readonly namedCurve?: string;
  readonly pss?: boolean;
  readonly saltLength?: number;
  /** JWS ECDSA signatures are raw r||s, not DER. */
  readonly ecdsa?: boolean;
}

const SPECS: Record<JwtAlgorithm, AlgorithmSpec> = {
  RS256: { hash: 'sha256', keyTypes: ['rsa'] },
  RS384: { hash: 'sha384', keyTypes: ['rsa'] },
  RS512: { hash: 'sha512', keyTypes: ['rsa'] },
  PS256: { hash: 'sha256', keyTypes: ['rsa', 'rsa-pss'], pss: true, saltLength: 32 },
  PS384: { hash: 'sha384', keyTypes: ['rsa', 'rsa-pss'], pss: true, saltLength: 48 },
  PS512: { hash: 'sha512', keyTypes: ['rsa', 'rsa-pss'], pss: true, saltLength: 64 },
  ES256: { hash: 'sha256', keyTypes: ['ec'], namedCurve: 'prime256v1', ecdsa: true },
  ES384: { hash: 'sha384', keyTypes: ['ec'], namedCurve: 'secp384r1', ecdsa: true },
  ES512: { hash: 'sha512', keyTypes: ['ec'], namedCurve: 'secp521r1', ecdsa: true },
  EdDSA: { hash: null, keyTypes: ['ed25519', 'ed448'] },
};

/** RSA keys shorter than this are refused (RFC 7518 §3.3). */
export const MIN_RSA_BITS = 2048;

/** Whether `key` may verify signatures made with `alg`: the key's family and, for ECDSA, its curve must match. */
export function keyFitsAlgorithm(key: KeyObject, alg: JwtAlgorithm): boolean {
  const spec = SPECS[alg];
  if (!spec.keyTypes.includes(key.asymmetricKeyType ?? '')) return false;
  if (spec.namedCurve && key.asymmetricKeyDetails?.namedCurve !== spec.namedCurve) return false;
  return true;
}

/** Checks a JWS signature with node:crypto. `data` is the ASCII of `base64url(header) + '.' + base64url(payload)`. */
export function verifySignature(alg: JwtAlgorithm, key: KeyObject, data: Uint8Array, signature: Buffer): boolean {
  const spec = SPECS[alg];
  try {
    if (spec.pss) {
      return verify(spec.hash, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: spec.saltLength }, signature);
    }
    if (spec.ecdsa) return verify(spec.hash, data, { key, dsaEncoding: 'ieee-p1363' }, signature);
    return verify(spec.hash, data, key, signature);
  } catch {
    // node:crypto throws on malformed signatures (wrong length, bad encoding): that is a failed check, not an error.
    return false;
  }
}
