const base = require('./jest.config');

/**
 * The chaos suites (issue 7): kill -9, broker restart, database outage, SIGTERM drain, poison and fuzz,
 * retry storm. They start Herald as child processes and stop shared services, so they run one at a
 * time with long timeouts. CHAOS_MODE=full runs the sizes; the default is the quicker CI mode.
 */
/** @type {import('jest').Config} */
module.exports = {
  ...base,
  testMatch: ['<rootDir>/test/chaos/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  maxWorkers: 1,
  testTimeout: 15 * 60 * 1000,
};
