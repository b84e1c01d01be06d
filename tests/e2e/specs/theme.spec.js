// Light and dark: the browser's preference unless the theme setting says
// otherwise; and the compact view for iframes and dashboards.
const { test, expect } = require('@playwright/test');
const { RosterServer } = require('../support/server');
const { RosterPage } = require('../support/roster-page');

const LIGHT_BG = 'rgb(246, 247, 251)';
const DARK_BG = 'rgb(15, 19, 26)';

let server;
test.beforeAll(async () => {
  server = await RosterServer.start();
});
test.afterAll(async () => {
  await server.dispose();
});

/** The page's background and the list's card colour. */
async function colours(page) {
  return page.evaluate(() => ({
    page: getComputedStyle(document.documentElement).backgroundColor,
    card: getComputedStyle(document.querySelector('[data-testid=user-list-scroller]')).backgroundColor,
  }));
}

for (const [preference, query, expected] of [
  ['light', '', LIGHT_BG],
  ['dark', '', DARK_BG],
  ['dark', '?theme=light', LIGHT_BG],
  ['light', '?theme=dark', DARK_BG],
  ['dark', '?theme=auto', DARK_BG],
]) {
  test(`prefers ${preference}, ${query || 'no setting'}: the ${expected === DARK_BG ? 'dark' : 'light'} theme`, async ({ page }) => {
    await page.emulateMedia({ colorScheme: preference });
    const roster = await new RosterPage(page).open(server.origin, query);
    await roster.expectState('connected');
    const shown = await colours(page);
    expect(shown.page).toBe(expected);
    expect(shown.card).not.toBe(shown.page);
  });
}

test('an unknown theme is named and the browser preference is kept', async ({ page }) => {
  await page.emulateMedia({ colorScheme: 'dark' });
  const roster = await new RosterPage(page).open(server.origin, '?theme=purple');
  await expect(roster.lastError).toContainText('ignored theme="purple"');
  await expect(roster.lastError).toHaveAttribute('data-problem', 'settings');
  expect((await colours(page)).page).toBe(DARK_BG);
});

test('the compact view drops the title from sight (not from headings) and the page margins; bg=transparent shows the host', async ({ page }) => {
  const roster = await new RosterPage(page).open(server.origin, '?compact=1&bg=transparent');
  await roster.expectState('connected');
  // Still the page's one heading for those who move by headings, but it
  // takes no room: a 1 px box clipped to nothing.
  const heading = page.getByRole('heading', { name: 'Roster', level: 1 });
  await expect(heading).toHaveCount(1);
  const title = await heading.boundingBox();
  expect(title.width * title.height).toBeLessThanOrEqual(1);
  expect(await heading.evaluate((h) => getComputedStyle(h).clipPath)).toBe('inset(50%)');
  await expect(roster.addButton).toBeVisible();
  const box = await page.locator('.roster').boundingBox();
  expect(box.x).toBe(0);
  expect((await colours(page)).page).toBe('rgba(0, 0, 0, 0)');
});

test('the dark page, as a person sees it', async ({ browser }) => {
  const page = await browser.newPage({ viewport: { width: 820, height: 560 }, colorScheme: 'dark' });
  const roster = await new RosterPage(page).open(server.origin);
  await roster.expectState('connected');
  for (let i = 0; i < 5; i++) await roster.addUser();
  await expect(roster.rows).toHaveCount(5);
  await expect(roster.status).toContainText('Live');
  await page.close();
});
