// Makes the README's pictures from real sessions against the real server:
// docs/screenshot.png (light), docs/screenshot-dark.png and
// docs/embed-example.png. A tool, not a test; see playwright.config.js here.
const path = require('node:path');
const fs = require('node:fs');
const { test, expect } = require('@playwright/test');
const { RosterServer, EXAMPLE_LISTS } = require('../support/server');
const { RosterPage } = require('../support/roster-page');

const DOCS = path.resolve(__dirname, '../../../docs');

let servers = [];
test.afterEach(async () => {
  await Promise.all(servers.map((s) => s.dispose()));
  servers = [];
});

/** Takes the picture, and checks that the file is a real one. */
async function picture(page, name, options = {}) {
  const file = path.join(DOCS, name);
  await page.evaluate(() => document.fonts.ready);
  await page.screenshot({ path: file, ...options });
  expect(fs.statSync(file).size, `${name} written`).toBeGreaterThan(1000);
}

for (const [colorScheme, name] of [['light', 'screenshot.png'], ['dark', 'screenshot-dark.png']]) {
  test(`a live list in the ${colorScheme} theme: ${name}`, async ({ browser }) => {
    const server = await RosterServer.start();
    servers.push(server);
    const page = await browser.newPage({ viewport: { width: 820, height: 560 }, colorScheme });
    const roster = await new RosterPage(page).open(server.origin);
    await roster.expectState('connected');
    for (let i = 0; i < 5; i++) await roster.addUser();
    await roster.expectUserIds(['1', '2', '3', '4', '5']);
    await expect(roster.status).toContainText('Live');
    await picture(page, name);
  });
}

test('the embed example with two lists: embed-example.png', async ({ browser }) => {
  const server = await RosterServer.start(undefined, { args: EXAMPLE_LISTS });
  servers.push(server);
  for (const name of ['Ada Lovelace', 'Grace Hopper', 'Alan Turing', 'Barbara Liskov']) {
    await server.add({ name, email: `${name.split(' ')[0].toLowerCase()}@team-a.test` }, 'team-a');
  }
  for (const name of ['Edsger Dijkstra', 'Tony Hoare']) {
    await server.add({ name, email: `${name.split(' ')[0].toLowerCase()}@team-b.test` }, 'team-b');
  }
  const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  await page.goto(`${server.origin}/embed-example.html`);
  await expect(page.getByTestId('host-state')).toHaveText('connected');
  await expect(page.locator('#team-b').getByTestId('user-row')).toHaveCount(2);
  await expect(page.frameLocator('#frame').getByTestId('user-row')).toHaveCount(4);
  // As the README shows it: mount()'s list unmounted, its counters kept.
  await page.evaluate(() => window.rosterHandle.unmount());
  await expect(page.locator('#mounted').getByTestId('user-row')).toHaveCount(0);
  await picture(page, 'embed-example.png', { fullPage: true });
});
