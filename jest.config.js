// Nest 12, jose and oidc-provider ship ESM only, and PGlite's CommonJS build calls import(): @swc/jest turns them
// into plain CommonJS so jest on Node 20 can load them.
const transform = {
  '^.+\\.(t|j|mj|cj)s$': [
    '@swc/jest',
    {
      jsc: {
        parser: { syntax: 'typescript', decorators: true },
        transform: { legacyDecorator: true, decoratorMetadata: true },
        target: 'es2022',
      },
      module: { type: 'commonjs' },
    },
  ],
};
const common = {
  transform,
  transformIgnorePatterns: ['/node_modules/(?!(@nestjs|jose|oidc-provider|@electric-sql)/)'],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'cjs', 'json'],
  moduleNameMapper: {
    '^nestjs-authz$': '<rootDir>/libs/authz/src/index.ts',
    '^nestjs-authz/testing$': '<rootDir>/libs/authz/src/testing/index.ts',
    '^nestjs-authz/admin$': '<rootDir>/libs/authz/src/admin/index.ts',
    '^nestjs-authz/openapi$': '<rootDir>/libs/authz/src/openapi/index.ts',
    '^nestjs-authz/passport$': '<rootDir>/libs/authz/src/passport/index.ts',
  },
  testEnvironment: 'node',
};
module.exports = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/libs/**/*.spec.ts', '<rootDir>/apps/**/*.spec.ts'] },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/test/**/*.e2e-spec.ts', '<rootDir>/examples/**/*.e2e-spec.ts'] },
  ],
};
