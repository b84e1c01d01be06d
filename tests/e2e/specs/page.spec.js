// The page for people: names shown as text, announcements kept short,
// usable by keyboard alone, and laid out from a 320 px frame up.
const { test, expect } = require('@playwright/test');
const { RosterServer } = require('../support/server');
const { RosterPage } = require('../support/roster-page');

let server;
test.beforeAll(async () => {
  server = await RosterServer.start(undefined, { args: ['--demo-users', '500'] });
});
test.afterAll(async () => {
  await server.dispose();
});

test('a name that looks like HTML is shown as text', async ({ page }) => {
  const name = '<img src=x onerror="window.hacked=1"> <b>Bold</b>';
  const response = await fetch(`${server.origin}/api/v1/users`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name, email: 'markup@roster.test' }),
  });
  expect(response.status).toBe(201);
  const { id } = await response.json();
  const roster = await new RosterPage(page).open(server.origin);
  await roster.expectState('connected');
  // "Connected" comes with the socket's open, the list with the snapshot
  // after it: scroll only once the page holds the server's whole list.
  await expectWholeList(roster);
  await page.getByTestId('user-list-scroller').evaluate((list) => { list.scrollTop = list.scrollHeight; });
  const row = page.locator(`[data-testid=user-row][data-user-id="${id}"]`);
  await expect(row.locator('.user-name')).toHaveText(name);
  await expect(row.locator('img, b')).toHaveCount(0);
  expect(await page.evaluate(() => window.hacked)).toBeUndefined();
});

test('users added below the view show "N new" instead of moving the list, and it takes the reader to them', async ({ page }) => {
  const roster = await new RosterPage(page).open(server.origin);
  await roster.expectState('connected');
  const scroller = page.getByTestId('user-list-scroller');
  const news = page.getByTestId('new-users');
  const firstRow = await roster.rows.first().getAttribute('data-user-id');
  await expect(news).toBeHidden();

  const one = await server.add({ name: 'Arrived One' });
  const two = await server.add({ name: 'Arrived Two' });
  await expect(news).toHaveText('2 new users ↓');
  expect(await scroller.evaluate((e) => e.scrollTop)).toBe(0);
  await expect(roster.rows.first()).toHaveAttribute('data-user-id', firstRow);

  await news.click();
  await expect(news).toBeHidden();
  await expect(page.locator(`[data-user-id="${two.id}"]`)).toBeInViewport({ ratio: 1 });
  await expect(page.locator(`[data-user-id="${one.id}"]`)).toBeInViewport();
  await expect(scroller).toBeFocused();

  // At the end, the list follows new users.
  const three = await server.add({ name: 'Arrived Three' });
  await expect(page.locator(`[data-user-id="${three.id}"]`)).toBeInViewport({ ratio: 1 });
  await expect(news).toBeHidden();
});

test('only the connection state is announced, not every change', async ({ page }) => {
  const roster = await new RosterPage(page).open(server.origin);
  await roster.expectState('connected');
  const live = page.locator('[role=status], [aria-live]');
  await expect(live).toHaveCount(1);
  await expect(live).toHaveText('Live');
  // The count and the rows are not in a live region.
  await expect(page.locator('[role=status] [data-testid=user-count], [aria-live] [data-testid=user-row]')).toHaveCount(0);
});

/** Waits until the page's count is the number of users the server holds. */
async function expectWholeList(roster) {
  await expect(roster.count).toHaveAttribute('value', String((await server.users()).length));
}

/** How far the page is wider than the window, in pixels. */
function overflowSideways(page) {
  return page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
}

/** Waits until `scroller` has stopped moving. */
async function settled(scroller) {
  let last = -1;
  await expect.poll(async () => {
    const now = await scroller.evaluate((e) => e.scrollTop);
    const still = now === last;
    last = now;
    return still;
  }, { intervals: [100] }).toBe(true);
}

test('the list is usable by keyboard alone, and focus stays put while rows are redrawn', async ({ page }) => {
  const roster = await new RosterPage(page).open(server.origin);
  await roster.expectState('connected');
  await expectWholeList(roster);
  const scroller = page.getByTestId('user-list-scroller');
  // Tab through the controls to the list.
  for (let i = 0; i < 10 && !(await scroller.evaluate((e) => e === document.activeElement)); i++) {
    await page.keyboard.press('Tab');
  }
  await expect(scroller).toBeFocused();
  const before = await scroller.evaluate((e) => e.scrollTop);
  await page.keyboard.press('PageDown');
  await page.keyboard.press('PageDown');
  await expect.poll(() => scroller.evaluate((e) => e.scrollTop)).toBeGreaterThan(before);
  // Keyboard scrolling is animated; a key pressed mid-animation can be
  // lost, so let it settle first.
  await settled(scroller);
  await page.keyboard.press('End');
  await expect.poll(() => scroller.evaluate((e) => e.scrollHeight - e.clientHeight - e.scrollTop)).toBeLessThan(1);
  const count = Number(await roster.count.getAttribute('value'));
  await expect(page.locator('[data-testid=user-row]').last()).toHaveAttribute('aria-posinset', String(count));
  // Rows are recycled as the view moves and as users arrive: focus stays.
  await settled(scroller);
  await page.keyboard.press('Home');
  await expect(page.locator('[data-testid=user-row]').first()).toHaveAttribute('aria-posinset', '1');
  await fetch(`${server.origin}/api/v1/users`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  await expect(roster.count).toHaveAttribute('value', String(count + 1));
  await expect(scroller).toBeFocused();
  // The add button works from the keyboard too.
  await roster.addButton.focus();
  await page.keyboard.press('Enter');
  await expect(roster.count).toHaveAttribute('value', String(count + 2));
});

for (const width of [320, 1920]) {
  test(`at ${width} px wide nothing overflows sideways`, async ({ browser }) => {
    const page = await browser.newPage({ viewport: { width, height: 640 } });
    const roster = await new RosterPage(page).open(server.origin);
    await roster.expectState('connected');
    await expectWholeList(roster);
    expect(await overflowSideways(page)).toBeLessThanOrEqual(0);
    await expect(roster.addButton).toBeInViewport();
    await expect(page.locator('[data-testid=user-row]').first()).toBeInViewport();
    await page.close();
  });
}

// A person presses Add exactly when the network misbehaves: the button must
// not move while the connection's details, "N waiting to send" and the
// error come and go (it did, by 105 px down and 130 px left, and the chaos
// test's presses landed on the filter instead).
for (const width of [320, 1280]) {
  test(`at ${width} px wide the Add button stays put while the connection drops and comes back`, async ({ browser }) => {
    const own = await RosterServer.start();
    const page = await browser.newPage({ viewport: { width, height: 640 } });
    try {
      const roster = await new RosterPage(page).openWith(own.origin, { backoff_base_ms: 100, backoff_cap_ms: 300 });
      await roster.expectState('connected');
      const where = await roster.addButton.boundingBox();
      const expectInPlace = async (when) => {
        expect(await roster.addButton.boundingBox(), when).toEqual(where);
      };

      await own.stop('SIGKILL');
      await roster.expectState('reconnecting');
      // (At 320 px the details are cut short, so present, not visible.)
      await expect(roster.attempt).toBeAttached();
      await expect(roster.lastError).toBeAttached();
      await expectInPlace('reconnecting, with the attempt, the next try and the error shown');
      for (let i = 1; i <= 12; i++) await roster.addUser();
      await expect(roster.pending).toHaveText('12 waiting to send');
      await expectInPlace('with adds waiting');
      // The status's details are cut short within the header, not past it.
      const header = await page.locator('.roster-header').boundingBox();
      const status = await roster.status.boundingBox();
      expect(status.x + status.width).toBeLessThanOrEqual(header.x + header.width + 0.5);

      await own.start();
      await roster.expectState('connected');
      await expect(roster.count).toHaveAttribute('value', '12');
      await expect(roster.pending).toBeHidden();
      await expectInPlace('connected again');
      expect(await overflowSideways(page)).toBeLessThanOrEqual(0);
    } finally {
      await page.close();
      await own.dispose();
    }
  });
}
