/**
 * jest 30 in ESM mode with @swc/jest. Unit specs live beside the code (`*.spec.ts`),
 * integration and end-to-end suites under `test/` (`*.test.ts`).
 * `cookie` (light-my-request, for app.inject) and `content-disposition` (@fastify/static, for /docs) are ESM
 * packages required from CommonJS; jest's VM cannot link that, so they are transformed (to CJS).
 */
const swc = [
  '@swc/jest',
  {
    jsc: {
      target: 'es2023',
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
      keepClassNames: true,
    },
  },
];

/**
 * `AGENT_BOM_TEST_SCOPE=database` runs only what can differ between PostgreSQL servers: CI's second pass (the embedded
 * PostgreSQL) skips the suites that never open a database connection — unit specs (`*.spec.ts`, pure by
 * convention), the MCP conformance runs, the chart and image checks, the browser suites, the docs-match-code check,
 * the shared policy vectors through the proxy and the gateway, the proxy's, the control-plane client's and
 * discovery's suites — since the first pass ran them against the same code.
 */
const DATABASE_INDEPENDENT = [
  '\\.spec\\.ts$',
  '/test/conformance/',
  '/test/helm/',
  '/test/console/',
  '/test/docs/',
  '/test/vectors/',
  '/test/proxy/',
  '/test/control-plane-client/',
  '/test/discovery/',
];

export default {
  testPathIgnorePatterns: [
    '/node_modules/',
    ...(process.env.AGENT_BOM_TEST_SCOPE === 'database' ? DATABASE_INDEPENDENT : []),
  ],
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  roots: ['<rootDir>/src', '<rootDir>/apps', '<rootDir>/libs', '<rootDir>/cli', '<rootDir>/test'],
  testMatch: ['**/*.spec.ts', '**/*.test.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.(t|j)sx?$': swc },
  transformIgnorePatterns: ['/node_modules/(?!(cookie|content-disposition)/)'],
  globalSetup: '<rootDir>/test/global-setup.js',
  globalTeardown: '<rootDir>/test/global-teardown.js',
  testTimeout: 30000,
};
