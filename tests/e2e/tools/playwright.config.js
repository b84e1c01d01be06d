// The README's pictures are made by a tool, not by the tests: the same
// browser settings as the tests (../playwright.config.js), its own folder.
// Run on request, after the tests: `UPDATE_SCREENSHOTS=1 scripts/test.sh`.
const base = require('../playwright.config');

module.exports = {
  ...base,
  testDir: '.',
  outputDir: '../../../target/e2e/tool-results',
};
