'use strict';

const autocannon = require('autocannon');
const { ROUTE } = require('./config');

/**
 * Runs autocannon against one app for `duration` seconds (GET `path`, by default the scenarios' ROUTE). Each request carries the next token of `tokens`; the
 * position lives in `cursor` and carries over from run to run, so with a pool larger than the app's verified-token
 * cache every token comes back only after more than the cache's cap of others (a miss in an LRU cache).
 * Every scenario goes through the same `setupRequest` hook, so the load generator does the same work in each.
 *
 * Latency percentiles come from autocannon's per-response times (fractional ms), not its integer-ms histogram.
 */
async function runLoad({ port, path = ROUTE, tokens, cursor, duration, connections, expectStatus }) {
  const first = cursor.next;
  const latencies = [];
  const instance = autocannon({
    url: `http://127.0.0.1:${port}`,
    connections,
    duration,
    requests: [
      {
        method: 'GET',
        path,
        setupRequest: (request) => {
          request.headers = { ...request.headers, authorization: `Bearer ${tokens[cursor.next++ % tokens.length]}` };
          return request;
        },
      },
    ],
  });
  const statuses = {};
  instance.on('response', (_client, statusCode, _bytes, responseTime) => {
    statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
    latencies.push(responseTime);
  });
  const result = await instance;
  const total = Object.values(statuses).reduce((sum, count) => sum + count, 0);
  const unexpected = total - (statuses[expectStatus] ?? 0) + result.errors + result.timeouts;
  latencies.sort((a, b) => a - b);
  return {
    rps: total / result.duration,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    requests: total,
    tokensSent: cursor.next - first,
    statuses,
    unexpected,
  };
}

function percentile(sorted, q) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

module.exports = { runLoad };
