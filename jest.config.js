/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.spec.ts'],
  // Checks against documents outside the repository: `npm run test:upstream` (jest.upstream.config.js).
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/upstream/'],
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
          target: 'es2022',
        },
      },
    ],
  },
  testTimeout: 60000,
  // What a test file leaves on the heap (module registries, closed apps' caches) adds up when
  // one process runs every file: a jest worker that holds more than this after a file is
  // replaced by a fresh one (on 2 cores, one worker runs the files one after the other).
  workerIdleMemoryLimit: '1GB',
};
