// The fault scenarios (tests/e2e/faults/): run by scripts/faults.sh inside
// a network namespace it makes, never directly. Otherwise as
// playwright.config.js.
const base = require('./playwright.config');

module.exports = {
  ...base,
  testDir: './faults',
  outputDir: '../../target/e2e/fault-results',
};
