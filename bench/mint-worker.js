'use strict';

const { createPrivateKey } = require('node:crypto');
const { parentPort, workerData } = require('node:worker_threads');
const { accessClaims, signToken } = require('./tokens');

/**
 * Mints distinct valid tokens in batches on request, on the other core, so the memory run measures the guard
 * and not the signing. workerData: { privateJwk, kid, alg, issuer, pad, total }.
 */
const { privateJwk, kid, alg, issuer, pad, total } = workerData;
const key = { kid, alg, privateKey: createPrivateKey({ key: privateJwk, format: 'jwk' }) };
const now = Math.floor(Date.now() / 1000);
let minted = 0;

parentPort.on('message', (batchSize) => {
  const batch = [];
  for (let end = Math.min(total, minted + batchSize); minted < end; minted++) {
    batch.push(signToken(key, accessClaims(issuer, `user-${minted}`, `jti-${minted}`, now, pad ? { pad } : {})));
  }
  parentPort.postMessage(batch);
});
