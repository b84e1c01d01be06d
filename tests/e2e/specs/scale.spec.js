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
  await expect(roster.count).toHaveAttribute('value', String(USERS), { timeout: 30_000 });
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
  await expect(roster.count).toHaveAttribute('value', String(USERS + 1));
  await scroller.evaluate((el) => el.scrollTo(0, el.scrollHeight));
  await expect(page.locator(`[data-user-id='${added.id}']`)).toContainText('Made Elsewhere');
  expect(await roster.rows.count()).toBeLessThanOrEqual(MAX_ROWS);
});

test('100,000 users: the filter narrows as you type, says "N of M", and changes go through it', async ({ page }) => {
  const roster = new RosterPage(page);
  await roster.open(server.origin);
  await expect(roster.count).toHaveAttribute('value', /^\d{6}$/, { timeout: 30_000 });
  const total = Number(await roster.count.getAttribute('value'));
  const filter = page.getByTestId('filter');
  const shown = page.getByTestId('shown-count');
  await expect(shown).toBeHidden();

  // Every demo email ends in ".<id>@roster.test": "4242@" is in ten of them.
  await filter.pressSequentially('4242@');
  await expect(shown).toHaveText('10 of ');
  await expect(page.locator('.user-count')).toHaveText(`10 of ${total.toLocaleString('en-US')} users`);
  const ids = await roster.rows.evaluateAll((rows) => rows.map((r) => r.dataset.userId));
  expect(ids).toEqual(['4242', '14242', '24242', '34242', '44242', '54242', '64242', '74242', '84242', '94242']);
  // Typing a character before narrows to one.
  await filter.press('Home');
  await filter.press('.');
  await expect(shown).toHaveText('1 of ');
  await expect(roster.rows).toHaveCount(1);

  // An add elsewhere that matches appears; one that does not is only counted.
  await filter.fill('Findme');
  await expect(page.getByTestId('user-list-empty')).toHaveText('No users match the filter.');
  await server.add({ name: 'Findme Now', email: 'findme@roster.test' });
  await server.add({ name: 'Someone Else' });
  await expect(roster.count).toHaveAttribute('value', String(total + 2));
  await expect(shown).toHaveText('1 of ');
  await expect(roster.rows).toHaveCount(1);
  await expect(roster.rows.first()).toContainText('Findme Now');

  // Cleared, the whole list is back, from the top.
  await filter.fill('');
  await expect(shown).toBeHidden();
  await expect(roster.rows.first()).toHaveAttribute('data-user-id', '1');
  await expect(roster.rows.first()).toHaveAttribute('aria-setsize', String(total + 2));
});
