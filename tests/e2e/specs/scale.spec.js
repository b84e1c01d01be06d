// The client at full scale: 100,000 users from the real server, a windowed
// list with a bounded DOM, and live changes still arriving.
const { test, expect } = require('@playwright/test');
const { RosterServer } = require('../support/server');
const { RosterPage } = require('../support/roster-page');

const USERS = 100_000;
/** More rows than this in the DOM means the list is not windowed. */
const MAX_ROWS = 80;

let server;
test.beforeAll(async () => {
  server = await RosterServer.start(undefined, { args: ['--demo-users', String(USERS)] });
});
test.afterAll(async () => {
  await server.dispose();
});

test('100,000 users: the count is right, the DOM stays small, the end is reachable, and adds still appear', async ({ page }) => {
  const roster = new RosterPage(page);
  await roster.open(server.origin);
  await expect(roster.count).toHaveText(String(USERS), { timeout: 30_000 });
  await expect(roster.rows.first()).toHaveAttribute('data-user-id', '1');
  expect(await roster.rows.count()).toBeLessThanOrEqual(MAX_ROWS);

  const list = page.getByTestId('user-list');
  await expect(list.locator('[data-testid=user-row]').first()).toHaveAttribute('aria-setsize', String(USERS));

  // Halfway, then to the very end.
  const scroller = page.getByTestId('user-list-scroller');
  await scroller.evaluate((el) => el.scrollTo(0, el.scrollHeight / 2));
  await expect(page.locator(`[data-user-id='${USERS / 2}']`)).toBeVisible();
  expect(await roster.rows.count()).toBeLessThanOrEqual(MAX_ROWS);
  await scroller.evaluate((el) => el.scrollTo(0, el.scrollHeight));
  const last = page.locator(`[data-user-id='${USERS}']`);
  await expect(last).toBeVisible();
  await expect(last).toHaveAttribute('aria-posinset', String(USERS));
  expect(await roster.rows.count()).toBeLessThanOrEqual(MAX_ROWS);

  // An add made elsewhere (the HTTP API) appears, and the count follows.
  const response = await fetch(`${server.origin}/api/v1/users`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'Made Elsewhere' }),
  });
  expect(response.status).toBe(201);
  const added = await response.json();
  await expect(roster.count).toHaveText(String(USERS + 1));
  await scroller.evaluate((el) => el.scrollTo(0, el.scrollHeight));
  await expect(page.locator(`[data-user-id='${added.id}']`)).toContainText('Made Elsewhere');
  expect(await roster.rows.count()).toBeLessThanOrEqual(MAX_ROWS);
});
