const base = require('./jest.config');

/**
 * The load suites: thousands of sockets and deliveries at once (10,000 IM deliveries to live sockets).
 * They measure nothing, but they need the machine to themselves to finish in bounded time, so they run
 * one at a time apart from `npm test`, which runs its suites in parallel.
 */
/** @type {import('jest').Config} */
module.exports = {
  ...base,
  testMatch: ['<rootDir>/test/load/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  maxWorkers: 1,
  testTimeout: 10 * 60 * 1000,
};
