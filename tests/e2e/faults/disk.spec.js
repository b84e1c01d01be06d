// SQLite's disk filling up: the database on a small tmpfs the scenario
// mounts (inside the fault namespace's own mount namespace, so it goes
// with the run whatever happens), filled with a file until ENOSPC.
//
// Expected, written before the run: while the disk is full every write is
// answered `storage_failed` and nothing is half-written; reads go on (the
// API answers, the page stays connected and keeps its list); the page
// keeps what was pressed and sends it again; once space is freed, writing
// resumes by itself, every press lands once, and the database passes
// `PRAGMA integrity_check` after the server stops.
const { execFileSync } = require('node:child_process');
const path = require('node:path');
const { test, expect } = require('@playwright/test');
const { RosterServer } = require('../support/server');
const { record } = require('../support/reliability');
const { keepAdding } = require('../support/roster-page');
const { SmallDisk, hold } = require('../support/faults');
const { Scenario } = require('../support/scenario');

/** `PRAGMA integrity_check` of the database at `file`, by Python's sqlite3. */
function integrityCheck(file) {
  return execFileSync('python3', ['-c', 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("PRAGMA integrity_check").fetchone()[0])', file])
    .toString().trim();
}

test('SQLite\'s disk full: writes answer storage_failed, reads go on, writing resumes when space is freed', async ({ browser }) => {
  test.setTimeout(120_000);
  const disk = new SmallDisk(4096);
  const db = path.join(disk.dir, 'roster.db');
  const server = await RosterServer.start(undefined, { db });
  const context = await browser.newContext();
  try {
    const scenario = new Scenario();
    scenario.instance('server', server);
    const roster = await scenario.open(context, 'page', server.origin);
    const started = Date.now();
    const refusals = { get count() { return scenario.history.acksBetween('page', started).refused.storage_failed ?? 0; } };
    let running = true;
    const adding = keepAdding(roster, () => running);
    await hold(2_000);

    const filled = disk.fill();
    const before = (await server.users()).length;
    await expect.poll(() => refusals.count, { message: 'writes refused with storage_failed', timeout: 15_000 }).toBeGreaterThan(0);
    await hold(3_000);
    // Reads go on, and nothing was stored meanwhile.
    const during = await fetch(`${server.origin}/api/v1/users`);
    expect(during.status).toBe(200);
    expect((await during.json()).length).toBe(before);
    await roster.expectState('connected');
    expect(await roster.pending.count(), 'presses kept while the disk is full').toBe(1);

    disk.free();
    const freed = Date.now();
    await expect(roster.pending).toHaveCount(0, { timeout: 15_000 });
    const resumedMs = Date.now() - freed;
    running = false;
    const presses = await adding;
    const { problems, counts } = await scenario.settle();
    expect(problems).toEqual([]);
    expect(counts.acked, 'every press stored once').toBe(presses);
    await server.stop();
    expect(integrityCheck(db)).toBe('ok');
    record('faults', 'disk full', `SQLite's filesystem filled (${Math.round(filled / 1024)} KiB written to a 4 MiB tmpfs) while a page presses Add, then freed`,
      counts.operations, `${refusals.count} writes answered storage_failed while full, reads and the socket went on; writing resumed ` +
      `${resumedMs} ms after space was freed; all ${presses} presses stored exactly once; integrity_check ok`);
  } finally {
    await context.close();
    await server.dispose();
    disk.dispose();
  }
});
