// Writes RELIABILITY.md from the rows the reliability tests left in
// target/reliability/ (one JSON file per passing test; see
// crates/server/tests/api/reliability.rs). Every row the suites should
// produce is listed below, so a test that failed or did not run shows up
// as FAILED rather than disappearing.
//
//   node scripts/reliability-report.mjs <short|long> <seconds taken>
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const DIR = process.env.ROSTER_RELIABILITY_DIR || path.join(ROOT, 'target/reliability');
const [mode = 'short', took = '?'] = process.argv.slice(2);

/** Every row, by suite, in the order the table shows them. */
const EXPECTED = {
  fuzz: ['v1_client', 'v1_server', 'seed', 'ws_frames', 'engine', 'list'],
  'hostile client': ['garbage', 'add flood', 'connection limit', 'never reading', 'foreign origin', 'slow loris', 'oversized HTTP'],
  'hostile server': ['bad frames', 'versions', '10 MB frame', 'flood', 'close codes', 'silent socket', 'stalled handshake'],
  chaos: ['kill -9 the server', 'kill -9 Redis and instances'],
  soak: ['server', 'client'],
  faults: ['Redis partitioned from one instance', 'Redis frozen', 'instance frozen behind nginx', 'lossy link',
    'partition of 5 s', 'partition of 30 s', 'partition of 120 s', 'disk full', 'clock jumps', 'planted bug'],
};
const WHERE = {
  fuzz: '`fuzz/fuzz_targets/`, run by `scripts/fuzz.sh`',
  'hostile client': '`crates/server/tests/api/hostile.rs`, against the real binary',
  'hostile server': '`tests/e2e/specs/hostile-server.spec.js`, the page in Chromium',
  chaos: '`tests/e2e/specs/chaos.spec.js`, two pages in Chromium',
  soak: '`crates/server/tests/api/soak.rs` and `tests/e2e/specs/soak.spec.js`',
  faults: '`tests/e2e/faults/` in a network namespace made for the run (`scripts/faults.sh`: iptables blackholes and ' +
    'loss, delay and reordering through `roster-link`, SIGSTOP, a small tmpfs), `specs/clock-jumps.spec.js` and ' +
    '`specs/history-checker.spec.js`; every row is checked by the history checker (`tests/e2e/support/history.js`): ' +
    'every acknowledged add stored once, no acknowledged remove\'s user left, no user nobody added, versions seen in ' +
    'order with one meaning each, no stale list, every page and instance equal to the store',
};

/** Every bug the reliability tests found, and its fix (kept by hand). */
const BUGS = [
  '**A connection could hold the server forever without sending a request.** `axum::serve` gives hyper no timer, so ' +
    "hyper's header read timeout never ran: a silent connection, or a slow loris sending a header byte a second, was held " +
    'with its task and file descriptor indefinitely. Found by *hostile client / slow loris*. Fixed by serving HTTP/1.1 in ' +
    '`crates/server/src/connections.rs` with a deadline for every request head (`--header-timeout-ms`, 10 s).',
  "**With Redis, the server's list and its clients' lists could be in different orders.** Ids are given out before the " +
    'version is taken, so two instances adding at once could commit id 8 before id 7. Clients apply changes in version ' +
    "order; the server kept its list by id, and a reloaded instance sorted by id, so after a restart a page's list and the " +
    "server's disagreed. Found by *chaos / kill -9 Redis and instances*. Fixed by keeping the list in commit order " +
    '(`directory.rs`) and storing that order in Redis (`{roster:<list>}:order`, scored by version); ' +
    '`shared::a_fresh_instance_loads_the_list_in_the_order_the_adds_were_committed` fails without either half.',
  '**An add pressed at the wrong moment could vanish silently.** After three failed tries a page offers no subprotocol ' +
    '(the seed fallback). When that plain open caught a restarting Roster server with no adds waiting, the connection ' +
    'stayed, and an add pressed then went as `__addUser__`, which nothing acknowledges, and was forgotten; a kill -9 ' +
    'before the server stored it lost it. Found by *chaos / kill -9 the server* (247 of 248 presses stored, in a CI run). ' +
    'Fixed in the engine: once a server has spoken v1, no add goes over a plain connection; it waits in the outbox and v1 ' +
    'is tried again (`engine::tests::an_add_pressed_on_a_plain_connection_to_a_server_that_spoke_v1_waits_for_v1`, ' +
    'and an invariant of the engine fuzz target).',
  '**The Add button moved under the pointer as the connection came and went.** The status line wrapped when its ' +
    'details appeared, pushing the button 105 px down, and "N waiting to send" pushed it 130 px left: a press made as ' +
    'the network misbehaves (when people press hardest) could land on the filter or the list. Found by *chaos / kill -9 ' +
    'the server* in the long run: 2,427 of 2,428 presses stored, every add the pages sent stored once, no add frame ' +
    'for the missing press, and Playwright logging its clicks intercepted by the filter and the list (it checks only ' +
    'the first event of a click, so a button that moves between press and release loses the click silently, as it ' +
    "would a person's). Fixed with one layout in every state (`style/main.css`): the status on a line of its own " +
    'that never wraps, the actions laid out leftwards from the Add button. The page test *the Add button stays put* ' +
    'checks its box in four states at 320 and 1280 px, and chaos now counts the clicks that reach the button.',
  '**A partitioned instance left its pages\' adds unanswered for tens of seconds.** A page\'s queued adds reach the ' +
    'server as one batch, and each was tried against the silent Redis for the whole command deadline (2 s) before the ' +
    'next: no ack at all reached the page during a 15 s partition, though the server logged a refusal every 2 s. Found ' +
    'by *faults / Redis partitioned from one instance*. Fixed in `roster/shared.rs`: while the change feed finds Redis ' +
    'down, or has not heard from it within `--redis-timeout-ms` + 0.5 s, writes are refused with `store_unavailable` at ' +
    'once. The feed now asks every 0.5 s (it was 5 s, so a silent Redis took up to 7 s to notice), and a Redis ' +
    'connection whose command timed out is replaced (the `redis` crate keeps it; after a long partition its TCP ' +
    'retransmissions are far apart).',
  '**A page\'s wall clock drove its heartbeats and retries.** The engine read `Date.now()`, so a clock set back an hour ' +
    '(NTP stepping, a person changing it) put the next ping an hour away; the page reconnected once its pong deadline ' +
    'passed by the other clock. Found by *faults / clock jumps* (with `Date.now()` restored, it fails: "backwards: no ' +
    'reconnect", 1 socket). Fixed in `src/socket/driver.rs`: the engine runs on `performance.timeOrigin + ' +
    'performance.now()`, and a token\'s lifetime comes from the server\'s clock (`session.server_time`, new), so ' +
    'neither clock\'s jumps nor skew between them reach the refresh.',
  '**A full disk lost the adds pressed meanwhile.** `storage_failed` settled an add as refused, so a page whose server ' +
    'ran out of disk dropped what its user had pressed, though the server had changed nothing. Found while writing ' +
    'down *faults / disk full*\'s expected outcome. Fixed in the engine (`outbox.rs`): `storage_failed` is kept and sent ' +
    'again under the same id, like `store_unavailable`, and the server names a wait (`retry_after_ms`).',
  '**A page gone behind a partition held its socket on the server until TCP gave up** (about 15 minutes of ' +
    'retransmissions; a silent peer that sends nothing is never found at all). Found while writing down *faults / ' +
    'partition*\'s expected outcome; the 30 s and 120 s partitions now check it. ' +
    'Fixed in `connections.rs`: TCP keepalive probes and `TCP_USER_TIMEOUT` on every accepted socket ' +
    '(`--peer-timeout-ms`, 60 s); with 10 s the server dropped the dead socket after 10.1 s.',
  '**After a partition healed, a page could wait 30 s to try again**, its backoff cap, against the goal of being ' +
    'equal to the store within 10 s of healing (found while writing down *faults / partition*). The cap is now 5 s (as socket.io and Phoenix), and ' +
    'the spread a crowd of viewers gets after a server restart, which protects the server, is no longer cut by it.',
];

const rows = new Map();
for (const file of fs.existsSync(DIR) ? fs.readdirSync(DIR) : []) {
  if (!file.endsWith('.json')) continue;
  const row = JSON.parse(fs.readFileSync(path.join(DIR, file), 'utf8'));
  rows.set(`${row.suite}/${row.test}`, row);
}

const cell = (text) => String(text).replace(/\|/g, '\\|').replace(/\n/g, ' ');
const commit = (() => {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT }).toString().trim();
  } catch {
    return 'unknown';
  }
})();

let failed = 0;
let table = '';
for (const [suite, tests] of Object.entries(EXPECTED)) {
  table += `\n## ${suite[0].toUpperCase()}${suite.slice(1)}\n\n${WHERE[suite]}.\n\n`;
  table += '| test | what was tried | times | what held |\n|---|---|---:|---|\n';
  for (const test of tests) {
    const row = rows.get(`${suite}/${test}`);
    if (row) {
      table += `| ${cell(test)} | ${cell(row.tried)} | ${Number(row.times).toLocaleString('en')} | ✅ ${cell(row.held)} |\n`;
      rows.delete(`${suite}/${test}`);
    } else {
      failed += 1;
      table += `| ${cell(test)} | | | ❌ FAILED: no row (the test failed or did not run) |\n`;
    }
  }
}
for (const row of rows.values()) {
  failed += 1;
  table += `\nAn unexpected row, not in scripts/reliability-report.mjs: ${cell(row.suite)} / ${cell(row.test)}.\n`;
}

const total = Object.values(EXPECTED).flat().length;
const doc = `# Reliability

What Roster was put through, and what held. Written by
\`scripts/reliability.sh${mode === 'long' ? ' --long' : ''}\` (the ${mode} form${mode === 'long'
  ? ''
  : '; the test command runs the same tests'}) at commit \`${commit}\` on
${new Date().toISOString().slice(0, 10)}, in ${took} s on a 2-core machine. Each test writes its
row only if it passed; **${total - failed} of ${total} rows passed**.

| | short form (the test command) | long form (\`scripts/reliability.sh --long\`) |
|---|---|---|
| fuzzing | 30 s per target | 5 min per target (\`scripts/fuzz.sh 3600\` for an hour each) |
| server soak | 20 s | 10 min |
| client soak | 1,000 reconnects | 10,000 reconnects |
| chaos | 20 kills per test | 200 kills per test |
| faults | Redis partition 15 s, lossy link 40 s; freezes 30 s and 60 s, partitions 5, 30 and 120 s in both | Redis partition 60 s, lossy link 5 min |

The promises tested: the list on screen is exact; nothing acknowledged is
lost or doubled; no hostile or broken peer crashes either side or grows
its memory without bound.

## Bugs these tests found

${BUGS.map((bug, i) => `${i + 1}. ${bug}`).join('\n')}
${table}`;
fs.writeFileSync(path.join(ROOT, 'RELIABILITY.md'), doc);
console.log(`RELIABILITY.md: ${total - failed} of ${total} rows passed`);
process.exit(failed === 0 ? 0 : 1);
