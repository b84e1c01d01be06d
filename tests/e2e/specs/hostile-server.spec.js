// The page against a hostile or broken v1 server (support/hostile-server.js):
// for each thing such a server may do, what the person sees. An error is
// shown, the list stays as it was, the connection is kept or cleanly
// replaced, and the page still answers a click. Each test writes its row
// for RELIABILITY.md.
const { test, expect } = require('@playwright/test');
const { RosterServer, waitUntil } = require('../support/server');
const { RosterPage } = require('../support/roster-page');
const { startHostileServer, startStallingServer } = require('../support/hostile-server');
const { record } = require('../support/reliability');

const SUITE = 'hostile server';
/** Short timers, so that each failure is noticed and retried quickly. */
const FAST = { ping_ms: 300, pong_timeout_ms: 300, connect_timeout_ms: 500, backoff_base_ms: 50, backoff_cap_ms: 300 };

let home;
let hostile;
let roster;
test.beforeAll(async () => {
  home = await RosterServer.start();
});
test.afterAll(async () => {
  await home.dispose();
});
test.beforeEach(async ({ page }) => {
  roster = new RosterPage(page);
});
test.afterEach(async () => {
  await hostile?.stop();
  hostile = null;
});

/** Opens the page on `server` with the fast timers and `extra` settings. */
async function openOn(server, extra = {}) {
  await roster.openWith(home.origin, { server: server.wsUrl, ...FAST, ...extra });
}

/** The page still works: a click adds a user, acknowledged and shown. */
async function stillResponsive(expectedRows) {
  await roster.addUser();
  await expect(roster.count).toHaveAttribute('value', String(expectedRows));
  await expect(roster.pending).toHaveCount(0);
}

test('malformed, misshapen, unknown and binary frames are reported and change nothing', async () => {
  hostile = await startHostileServer();
  await openOn(hostile);
  await roster.expectUserIds(['0', '1', '2']);
  const frames = [
    ['invalid JSON', '{"type":', 'unreadable_frame'],
    ['not an object', '[1,2,3]', 'unreadable_frame'],
    ['a snapshot of the wrong shape', '{"type":"snapshot","epoch":"x","version":"9","users":"none"}', 'unreadable_frame'],
    ['a change with no user', '{"type":"change","version":4,"op":"added"}', 'unreadable_frame'],
    ['an unknown type', '{"type":"surprise","version":4}', 'unreadable_frame'],
    ['a binary frame', Buffer.from([0, 1, 2, 255]), 'binary_frame'],
    ['an ack for no request', '{"type":"ack","request_id":"nobody","version":4,"user":{"id":"x","name":"X","email":"x"}}', null],
  ];
  for (const [what, frame, problem] of frames) {
    const dismiss = roster.page.getByTestId('error-dismiss');
    if ((await dismiss.count()) > 0) await dismiss.click();
    hostile.sendRaw(frame);
    if (problem) await expect(roster.lastError, what).toHaveAttribute('data-problem', problem);
    await roster.expectState('connected');
    await roster.expectUserIds(['0', '1', '2']);
  }
  expect(hostile.state.connectionsMade, 'the connection was kept').toBe(1);
  await stillResponsive(4);
  record(SUITE, 'bad frames', `${frames.length} kinds: invalid JSON, wrong shapes, no user, unknown type, binary, a stray ack`,
    frames.length, 'each reported (binary and unreadable frames by name), the list unchanged, the same connection kept, adds still work');
});

test('a change that goes back is ignored, and one that jumps ahead makes the page ask again', async () => {
  hostile = await startHostileServer();
  await openOn(hostile);
  await roster.expectUserIds(['0', '1', '2']);
  // Back: version 2 again, with a user the list never had.
  hostile.sendRaw(hostile.changeFrame(2, 'stale'));
  // Ahead: version 3 + 5, skipping four.
  hostile.sendRaw(hostile.changeFrame(8, 'ahead'));
  // The page asks to resume from what it has, and gets a snapshot.
  await waitUntil('a hello resuming from version 3', () =>
    hostile.state.hellos.some((hello) => hello.since === 3));
  await roster.expectUserIds(['0', '1', '2']);
  // The next real change applies.
  hostile.addUsers(1);
  await roster.expectUserIds(['0', '1', '2', '3']);
  expect(hostile.state.connectionsMade).toBe(1);
  record(SUITE, 'versions', 'a change whose version goes back, and one that skips four', 2,
    'the old one ignored; the gap answered by a hello with since=3, never applied; the next change applied; connection kept');
});

test('a 10 MB frame is reported and the page carries on', async () => {
  hostile = await startHostileServer();
  await openOn(hostile);
  await roster.expectUserIds(['0', '1', '2']);
  const huge = `{"type":"change","version":4,"op":"added","pad":"${'x'.repeat(10 * 1024 * 1024)}"}`;
  hostile.sendRaw(huge);
  await expect(roster.lastError).toHaveAttribute('data-problem', 'unreadable_frame');
  await roster.expectUserIds(['0', '1', '2']);
  await stillResponsive(4);
  record(SUITE, '10 MB frame', 'one 10 MB text frame that is not a valid message', 1,
    'reported as unreadable; the list unchanged; adds still work');
});

test('5,000 frames a second are all applied and the page stays responsive', async () => {
  hostile = await startHostileServer();
  await openOn(hostile);
  await roster.expectUserIds(['0', '1', '2']);
  // 10,000 changes at 5,000 a second: each tick sends what is due by then.
  const started = Date.now();
  let sent = 0;
  while (sent < 10_000) {
    const due = Math.min(10_000, Math.floor((Date.now() - started) * 5));
    hostile.addUsers(due - sent);
    sent = due;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const sentIn = Date.now() - started;
  await expect(roster.count).toHaveAttribute('value', '10003', { timeout: 30_000 });
  const shownAfter = Date.now() - started - sentIn;
  await stillResponsive(10004);
  expect(hostile.state.connectionsMade).toBe(1);
  record(SUITE, 'flood', `10,000 changes in ${(sentIn / 1000).toFixed(1)} s (${Math.round(10_000 / (sentIn / 1000))} a second)`, 10_000,
    `every change shown, the last ${shownAfter} ms after it was sent; no reconnect; adds still work`);
});

test('every class of close code: refusals stop, everything else reconnects with the list kept', async () => {
  hostile = await startHostileServer();
  await openOn(hostile);
  await roster.expectUserIds(['0', '1', '2']);
  const reconnecting = [1000, 1001, 1011, 1012, 1013, 3000, 4000, 4999];
  for (const code of reconnecting) {
    const before = hostile.state.connectionsMade;
    hostile.closeAll(code, 'bye');
    await waitUntil(`a new connection after ${code}`, () => hostile.state.connectionsMade > before);
    await roster.expectState('connected');
    await roster.expectUserIds(['0', '1', '2']);
  }
  // No close frame at all (the page sees 1006).
  const before = hostile.state.connectionsMade;
  hostile.terminateAll();
  await waitUntil('a new connection after 1006', () => hostile.state.connectionsMade > before);
  await roster.expectState('connected');
  const refusals = [1008, 4401, 4403];
  for (const code of refusals) {
    hostile.closeAll(code, 'not you');
    await roster.expectState('closed');
    await expect(roster.lastError).toHaveAttribute('data-problem', 'refused');
    await expect(roster.lastError).toContainText(`code ${code}`);
    await expect(roster.nextRetry).toHaveCount(0);
    expect(hostile.connections).toBe(0);
    await roster.retryButton.click();
    await roster.expectState('connected');
  }
  await roster.expectUserIds(['0', '1', '2']);
  await stillResponsive(4);
  record(SUITE, 'close codes', `${reconnecting.join(', ')}, no close frame (1006), and the refusals ${refusals.join(', ')}`,
    reconnecting.length + 1 + refusals.length,
    'each non-refusal reconnected with the list kept; each refusal left the page closed with the code shown and no retry until Connect');
});

test('a socket that opens and never speaks is given up and replaced', async () => {
  hostile = await startHostileServer();
  await openOn(hostile);
  await roster.expectUserIds(['0', '1', '2']);
  hostile.state.silent = true;
  hostile.terminateAll();
  // Each silent socket opens, gets no pong, and is closed with 4000.
  await expect(roster.lastError).toHaveAttribute('data-problem', 'stopped_answering');
  await waitUntil('two silent sockets tried', () => hostile.state.connectionsMade >= 3);
  await roster.expectUserIds(['0', '1', '2']);
  // Adds wait meanwhile, and are done once the server speaks again.
  await roster.addUser();
  await expect(roster.pending).toContainText(/^1 waiting/);
  // The next socket speaks: the current silent one is given up first.
  hostile.state.silent = false;
  await roster.expectUserIds(['0', '1', '2', '3']);
  await expect(roster.pending).toHaveCount(0);
  record(SUITE, 'silent socket', 'sockets that open and then never send a frame', hostile.state.connectionsMade - 1,
    'each closed after the pong timeout and replaced; the list kept; an add pressed meanwhile waited and was done once');
});

test('a server that accepts TCP and never finishes the handshake times out and is retried', async () => {
  const stalling = await startStallingServer();
  try {
    await openOn(stalling);
    await expect(roster.lastError).toHaveAttribute('data-problem', 'connect_timeout');
    await waitUntil('three handshakes tried', () => stalling.accepted >= 3);
    await expect(roster.status).toHaveAttribute('data-state', /reconnecting|connecting/);
    // The page answers: an add waits in the outbox, shown as pending.
    await roster.addUser();
    await expect(roster.pending).toContainText(/^1 waiting/);
    record(SUITE, 'stalled handshake', 'TCP accepted, the HTTP handshake never answered', stalling.accepted,
      'each try abandoned after connect_timeout_ms with the reason shown, retried with backoff; the page kept taking adds');
  } finally {
    await stalling.stop();
  }
});
