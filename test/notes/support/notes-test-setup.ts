/*
 * Import this module first in every notes spec: it must run before the app's modules load.
 *
 * 1. Jest runs test code in a VM context that cannot execute dynamic `import()` without --experimental-vm-modules,
 *    and PGlite's Node build calls `import('fs')` and `import('node:module')` as it opens a database. So specs get
 *    the very same package loaded by Node's own module loader, exactly as `npm start` loads it: nothing is faked,
 *    only the loader differs. (Jest also sandboxes `createRequire` and `process.getBuiltinModule`; the native
 *    `Module.prototype.require` of a module anchored at this file is what reaches Node's loader.)
 * 2. oidc-provider prints two expected warnings on Node 20 with its in-memory store; they would bury test output.
 */
jest.mock('@electric-sql/pglite', () => {
  const NodeModule = require('node:module');
  const anchor = new NodeModule(__filename);
  anchor.filename = __filename;
  anchor.paths = NodeModule._nodeModulePaths(__dirname);
  return anchor.require('@electric-sql/pglite');
});

const EXPECTED_WARNINGS = [/^oidc-provider WARNING: Unsupported runtime/, /^oidc-provider WARNING: a quick start development-only in-memory adapter/];
const warn = console.warn.bind(console);
console.warn = (message?: unknown, ...rest: unknown[]) => {
  if (typeof message === 'string' && EXPECTED_WARNINGS.some((expected) => expected.test(message))) return;
  warn(message, ...rest);
};

export {};
