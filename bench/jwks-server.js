'use strict';

const { createServer } = require('node:http');

/**
 * The identity provider's key endpoints on 127.0.0.1: `/jwks` and `/.well-known/openid-configuration`.
 * Both apps fetch keys from it like from a real provider; it is only hit at start (both sides cache keys).
 */
async function startJwksServer(keys) {
  let jwksRequests = 0;
  const server = createServer((req, res) => {
    const send = (status, body) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (req.url === '/.well-known/openid-configuration') return send(200, { issuer: `${url}/`, jwks_uri: `${url}/jwks` });
    if (req.url === '/jwks') {
      jwksRequests++;
      return send(200, { keys });
    }
    return send(404, { error: 'not found' });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    issuer: `${url}/`,
    jwksUri: `${url}/jwks`,
    get jwksRequests() {
      return jwksRequests;
    },
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

module.exports = { startJwksServer };
