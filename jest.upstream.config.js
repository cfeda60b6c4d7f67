/**
 * Checks against documents that are not part of this repository (the upstream OpenAPI
 * document of the native API). Not in `npm test`: `npm run test:upstream` with
 * UPSTREAM_SPECS_DIR set; `.ci/run` runs it as its own step when it has the documents.
 * @type {import('jest').Config}
 */
const base = require('./jest.config');

module.exports = {
  ...base,
  roots: ['<rootDir>/test/upstream'],
  testPathIgnorePatterns: ['/node_modules/'],
};
