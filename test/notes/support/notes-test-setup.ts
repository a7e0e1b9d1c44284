/*
 * Import this module first in every notes spec: oidc-provider prints two expected warnings on Node 20 with its
 * in-memory store, and they would bury test output.
 */
const EXPECTED_WARNINGS = [/^oidc-provider WARNING: Unsupported runtime/, /^oidc-provider WARNING: a quick start development-only in-memory adapter/];
const warn = console.warn.bind(console);
console.warn = (message?: unknown, ...rest: unknown[]) => {
  if (typeof message === 'string' && EXPECTED_WARNINGS.some((expected) => expected.test(message))) return;
  warn(message, ...rest);
};

export {};
