// Roster's client against a server that speaks only the seed protocol.
const { test, expect } = require('@playwright/test');
const { RosterServer } = require('../support/server');
const { startSeedServer } = require('../support/seed-server');
const { RosterPage } = require('../support/roster-page');

let roster;
let home;
let seed;
test.beforeEach(async ({ page }) => {
  home = await RosterServer.start();
  roster = new RosterPage(page);
});
test.afterEach(async () => {
  await seed?.stop();
  await home.dispose();
});

for (const numericIds of [false, true]) {
  test(`a seed server with ${numericIds ? 'numeric' : 'string'} ids is shown and can be added to`, async () => {
    seed = await startSeedServer({ numericIds, initialUsers: 3 });
    // A 50 ms heartbeat setting: had the client pinged a seed server, the
    // stand-in would have received many pings by the end of the test.
    await roster.open(home.origin, `?server=${encodeURIComponent(seed.wsUrl)}&ping_ms=50&pong_timeout_ms=50`);
    await roster.expectState('connected');
    await roster.expectUserIds(['0', '1', '2']);

    await roster.addUser();
    await roster.expectUserIds(['0', '1', '2', '3']);
    await expect(roster.status).toHaveAttribute('data-protocol', 'seed');
    // The client sent the trigger and nothing else: no heartbeat reaches a
    // seed server, where some variants add a user for every frame.
    expect(seed.received).toEqual(['__addUser__']);
  });
}

test('bad frames are reported and leave the list as it was', async () => {
  seed = await startSeedServer({ initialUsers: 2 });
  await roster.open(home.origin, `?server=${encodeURIComponent(seed.wsUrl)}`);
  await roster.expectUserIds(['0', '1']);

  seed.sendRaw('this is not json');
  await expect(roster.lastError).toContainText('not JSON');
  await expect(roster.lastError).toHaveAttribute('data-problem', 'unreadable_list');
  // The error view says it in plain words, as an alert, until dismissed.
  await expect(roster.errorBanner).toHaveAttribute('role', 'alert');
  await expect(roster.errorBanner).toContainText('cannot read');
  await roster.page.getByTestId('error-dismiss').click();
  await expect(roster.errorBanner).toHaveCount(0);
  seed.sendRaw('{"type":"surprise"}');
  await expect(roster.lastError).toContainText('not a list of users');
  seed.sendRaw(Buffer.from([1, 2, 3]));
  await expect(roster.lastError).toContainText('binary frame');
  await expect(roster.lastError).toHaveAttribute('data-problem', 'binary_frame');
  seed.sendRaw('[{"id":"9","name":"A","email":"a"},{"id":9,"name":"B","email":"b"}]');
  await expect(roster.lastError).toContainText('appears twice');

  await roster.expectState('connected');
  await roster.expectUserIds(['0', '1']);

  seed.sendRaw('[{"id":"5","name":"Back","email":"to normal"}]');
  await roster.expectUserIds(['5']);
});

test('a server closing with 1000 or 1001 is reconnected to; 1008, 4401 and 4403 leave the page closed until Connect', async () => {
  seed = await startSeedServer({ initialUsers: 1 });
  await roster.open(home.origin, `?server=${encodeURIComponent(seed.wsUrl)}`);
  await roster.expectState('connected');
  // The reconnect that follows a close clears the problem, perhaps within
  // milliseconds (its first wait is jittered from 0): the page records
  // every problem it shows, so none is missed between two looks.
  await roster.page.evaluate(() => {
    window.__problems = [];
    new MutationObserver(() => {
      const shown = document.querySelector('[data-testid=last-error]');
      if (shown) window.__problems.push(`${shown.dataset.problem}: ${shown.textContent}`);
    }).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
  });
  for (const code of [1000, 1001]) {
    seed.closeAll(code, 'bye');
    await expect.poll(() => roster.page.evaluate((code) => window.__problems
      .some((p) => p.startsWith('connection_lost:') && p.includes(`code ${code}: bye`)), code)).toBe(true);
    await roster.expectState('connected');
  }
  for (const code of [1008, 4401, 4403]) {
    seed.closeAll(code, 'not you');
    await roster.expectState('closed');
    await expect(roster.lastError).toContainText(`code ${code}: not you`);
    await expect(roster.lastError).toHaveAttribute('data-problem', 'refused');
    await expect(roster.errorBanner).toContainText('The server refused this page');
    // Closed means no retry is scheduled: no next try, a Connect button.
    await expect(roster.nextRetry).toHaveCount(0);
    await expect(roster.retryButton).toHaveText('Connect');
    await roster.retryButton.click();
    await roster.expectState('connected');
    await roster.expectUserIds(['0']);
  }
});
