// dist/ as people host it: copied to any path of a plain static server,
// the page talking to a Roster server elsewhere (?server=).
const { test, expect } = require('@playwright/test');
const { RosterServer, DIST } = require('../support/server');
const { StaticServer } = require('../support/static-server');
const { RosterPage } = require('../support/roster-page');

let roster;
let host;
test.afterEach(async () => {
  await roster?.dispose();
  await host?.stop();
});

test('dist/ works from a nested path prefix of a plain static host', async ({ page }) => {
  roster = await RosterServer.start();
  const prefix = '/apps/team-a/roster/';
  host = await StaticServer.start(DIST, prefix);
  const failed = [];
  page.on('response', (response) => {
    if (response.status() >= 400) failed.push(`${response.status()} ${response.url()}`);
  });

  const view = await new RosterPage(page).open(
    `${host.origin}${prefix.slice(0, -1)}`,
    `?server=${encodeURIComponent(roster.wsUrl)}`,
  );
  await view.expectState('connected');
  await view.addUser();
  await view.expectUserIds(['1']);

  expect(failed).toEqual([]);
  // Every asset came from under the prefix: nothing was asked of the root.
  const outside = host.requests.filter((url) => !url.startsWith(prefix));
  expect(outside).toEqual([]);
  expect(host.requests.some((url) => url.endsWith('.wasm'))).toBe(true);
  await expect(page.locator('link[rel=stylesheet]')).toHaveAttribute('href', /^\.\//);
});
