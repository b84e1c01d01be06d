// The list is live: what one page adds, every page shows.
const { test, expect } = require('../support/fixtures');
const { RosterPage } = require('../support/roster-page');

async function openPage(browser, server) {
  const roster = new RosterPage(await browser.newPage());
  await roster.open(server.origin);
  await roster.expectState('connected');
  return roster;
}

test('an add in one page appears in both open pages', async ({ browser, server }) => {
  const first = await openPage(browser, server);
  const second = await openPage(browser, server);
  await first.expectUserIds([]);
  await second.expectUserIds([]);

  await first.addUser();
  await first.expectUserIds(['1']);
  await second.expectUserIds(['1']);

  await second.addUser();
  await first.expectUserIds(['1', '2']);
  await second.expectUserIds(['1', '2']);
  expect((await server.users()).map((u) => u.id)).toEqual(['1', '2']);
});

test('each row shows the name and email the server holds', async ({ browser, server }) => {
  const roster = await openPage(browser, server);
  await roster.addUser();
  await roster.addUser();
  await roster.expectUserIds(['1', '2']);

  for (const [i, user] of (await server.users()).entries()) {
    await expect(roster.rows.nth(i)).toContainText(user.name);
    await expect(roster.rows.nth(i)).toContainText(user.email);
  }
});

test('a page opened later shows the list as it is now', async ({ browser, server }) => {
  const first = await openPage(browser, server);
  for (let i = 0; i < 3; i++) await first.addUser();
  await first.expectUserIds(['1', '2', '3']);

  const late = await openPage(browser, server);
  await late.expectUserIds(['1', '2', '3']);
});

test('the page connects to the server that served it, with no build-time address', async ({ page, server }) => {
  const roster = await new RosterPage(page).open(server.origin);
  await roster.expectState('connected');
  await expect(roster.lastError).toHaveCount(0);
});
