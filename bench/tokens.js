'use strict';

const { generateKeyPairSync, sign } = require('node:crypto');
const { AUDIENCE } = require('./config');

/**
 * Keys and access tokens for the benchmark, shaped like a provider's RS256 access tokens (RFC 9068 header,
 * scope string, identity roles), signed with node:crypto.
 */

function b64(value) {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** A signing key pair and its public JWK as a provider would publish it. */
function makeSigningKey(kid, alg = 'RS256') {
  const pair = alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { kid, alg, privateKey: pair.privateKey, jwk: { ...pair.publicKey.export({ format: 'jwk' }), kid, alg, use: 'sig' } };
}

/** The claims of a user's access token; `sub` and `jti` make each token distinct. */
function accessClaims(issuer, sub, jti, nowSeconds, extra = {}) {
  return {
    iss: issuer,
    aud: AUDIENCE,
    sub,
    client_id: 'notes-cli',
    iat: nowSeconds,
    exp: nowSeconds + 3600,
    jti,
    scope: 'notes:read notes:write',
    roles: ['notes-reader'],
    ...extra,
  };
}

function signToken(key, payload) {
  const input = `${b64({ alg: key.alg, typ: 'at+jwt', kid: key.kid })}.${b64(payload)}`;
  const options = key.alg === 'ES256' ? { key: key.privateKey, dsaEncoding: 'ieee-p1363' } : key.privateKey;
  return `${input}.${sign('sha256', Buffer.from(input), options).toString('base64url')}`;
}

/**
 * The same token with a corrupted signature: same length and header, so the app does the full signature check
 * before refusing it. Flips bits in the middle of the signature (the last character may carry padding bits only).
 */
function withBadSignature(token) {
  const cut = token.lastIndexOf('.') + 10;
  const swapped = token[cut] === 'A' ? 'B' : 'A';
  return token.slice(0, cut) + swapped + token.slice(cut + 1);
}

module.exports = { makeSigningKey, accessClaims, signToken, withBadSignature };
