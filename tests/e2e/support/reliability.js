// Rows for RELIABILITY.md (see crates/server/tests/api/reliability.rs for
// the format): a test that passes writes what it tried, how many times,
// and what held; scripts/reliability.sh gathers them into the table.
const fs = require('node:fs');
const path = require('node:path');

const DIR = process.env.ROSTER_RELIABILITY_DIR || path.resolve(__dirname, '../../../target/reliability');

function record(suite, test, tried, times, held) {
  fs.mkdirSync(DIR, { recursive: true });
  const file = path.join(DIR, `${suite}--${test}.json`.replace(/ /g, '-'));
  fs.writeFileSync(file, JSON.stringify({ suite, test, tried, times, held }));
}

module.exports = { record };
