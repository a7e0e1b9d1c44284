import { generateKeyPairSync } from 'node:crypto';
import { makeKey, signJws } from '../../../../test/support/signing';
import type { JwtAlgorithm } from '../authz.constants';
import { keyFitsAlgorithm, verifySignature } from './algorithms';

const rsa = makeKey('rsa');
const p256 = makeKey('p256', 'ES256');
const p384 = makeKey('p384', 'ES384');
const ed = makeKey('ed', 'EdDSA');
const p521 = generateKeyPairSync('ec', { namedCurve: 'P-521' }).publicKey;
const x25519 = generateKeyPairSync('x25519').publicKey;

describe('keyFitsAlgorithm', () => {
  it.each([
    ['RS256', 'RSA', true, rsa.publicKey],
    ['PS512', 'RSA', true, rsa.publicKey],
    ['ES256', 'RSA', false, rsa.publicKey],
    ['EdDSA', 'RSA', false, rsa.publicKey],
    ['ES256', 'P-256', true, p256.publicKey],
    ['ES384', 'P-256', false, p256.publicKey],
    ['ES512', 'P-256', false, p256.publicKey],
    ['ES384', 'P-384', true, p384.publicKey],
    ['ES512', 'P-521', true, p521],
    ['RS256', 'P-256', false, p256.publicKey],
    ['EdDSA', 'Ed25519', true, ed.publicKey],
    ['ES256', 'Ed25519', false, ed.publicKey],
    ['EdDSA', 'X25519', false, x25519],
  ] as const)('%s with a %s key fits: %s', (alg, _name, fits, key) => {
    expect(keyFitsAlgorithm(key, alg as JwtAlgorithm)).toBe(fits);
  });
});

describe('verifySignature', () => {
  const check = (token: string, alg: JwtAlgorithm, key = rsa.publicKey) => {
    const [header, payload, signature] = token.split('.');
    return verifySignature(alg, key, Buffer.from(`${header}.${payload}`), Buffer.from(signature, 'base64url'));
  };

  it.each(['RS256', 'PS256'] as const)('should verify a real %s signature', (alg) => {
    expect(check(signJws({ alg }, { sub: 'a' }, rsa.privateKey), alg)).toBe(true);
  });

  it('should verify ES256 in the JWS (r||s) encoding and EdDSA', () => {
    expect(check(signJws({ alg: 'ES256' }, { sub: 'a' }, p256.privateKey), 'ES256', p256.publicKey)).toBe(true);
    expect(check(signJws({ alg: 'EdDSA' }, { sub: 'a' }, ed.privateKey), 'EdDSA', ed.publicKey)).toBe(true);
  });

  it('should not let an RS256 signature pass as PS256, nor the reverse', () => {
    expect(check(signJws({ alg: 'RS256' }, { sub: 'a' }, rsa.privateKey), 'PS256')).toBe(false);
    expect(check(signJws({ alg: 'PS256' }, { sub: 'a' }, rsa.privateKey), 'RS256')).toBe(false);
  });

  it('should answer false, not throw, for malformed signatures', () => {
    const input = Buffer.from('eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhIn0');
    expect(verifySignature('ES256', p256.publicKey, input, Buffer.alloc(64))).toBe(false);
    expect(verifySignature('ES256', p256.publicKey, input, Buffer.alloc(3))).toBe(false);
    expect(verifySignature('RS256', rsa.publicKey, input, Buffer.alloc(0))).toBe(false);
    expect(verifySignature('EdDSA', ed.publicKey, input, Buffer.alloc(1))).toBe(false);
  });
});
