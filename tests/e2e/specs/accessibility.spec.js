// Roster as an accessibility review sees it: axe-core (@axe-core/playwright,
// every rule it runs by default: WCAG 2.x A and AA and best practices)
// with zero violations, and no overlapping or cut-off text, in every state
// the UI has, in the light and dark themes, on the full page, in
// ?embed=1 and inside <roster-users> (its shadow root):
//   connected; a filter that matches some, and one that matches nothing;
//   "N new" shown; paused with a change held; reconnecting with its
//   details; adds waiting; offline; read-only; closed with the error view.
// axe runs at 320 and 1280 px wide; the layout check at 320, 375, 768
// and 1280. No rule is turned off.
//
// Then the other ways people read pages, in Chromium: forced colours
// (Windows high contrast), reduced motion, and 200 % zoom.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { test, expect } = require('@playwright/test');
const { AxeBuilder } = require('@axe-core/playwright');
const { RosterServer, DIST } = require('../support/server');
const { StaticServer } = require('../support/static-server');
const { hostPage } = require('../support/host-page');
const { layoutProblems } = require('../support/layout');

const AXE_WIDTHS = [320, 1280];
const LAYOUT_WIDTHS = [320, 375, 768, 1280];
const HEIGHT = 800;
const USERS = 40;

/** A server with `USERS` demo users and `args`. */
const startServer = (args = []) => RosterServer.start(undefined, { args: ['--demo-users', String(USERS), ...args] });

let servers = [];
let host;
test.afterEach(async () => {
  await Promise.all(servers.map((server) => server.dispose()));
  servers = [];
  await host?.stop();
  host = undefined;
});

/**
 * How one mount is opened on `server`: its URL, and where its Roster is
 * (`null`: the document; else the <roster-users> selector).
 */
const MOUNTS = {
  page: { host: null, open: async (page, server, theme) => page.goto(`${server.origin}/?theme=${theme}`) },
  embed: { host: null, open: async (page, server, theme) => page.goto(`${server.origin}/?embed=1&theme=${theme}`) },
  element: {
    host: 'roster-users',
    open: async (page, server, theme) => {
      await host?.stop();
      host = await StaticServer.start(DIST, '/', {
        '/dashboard.html': hostPage(`<main><h1>A dashboard</h1>
          <roster-users server="${server.wsUrl}" theme="${theme}"></roster-users></main>`, server.origin),
      });
      await page.goto(`${host.origin}/dashboard.html`);
    },
  },
};

/** axe and the layout check on the page as it is now, at every width. */
async function checkState(page, mount, state) {
  for (const width of LAYOUT_WIDTHS) {
    await page.setViewportSize({ width, height: HEIGHT });
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
    const problems = await page.evaluate(layoutProblems, MOUNTS[mount].host);
    expect(problems, `layout, ${state}, ${width} px`).toEqual([]);
    if (AXE_WIDTHS.includes(width)) {
      const { violations } = await new AxeBuilder({ page }).analyze();
      const found = violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => `${n.target.join(' ')} ${n.failureSummary}`).join(' | ')}`);
      expect(found, `axe, ${state}, ${width} px`).toEqual([]);
    }
  }
  await page.setViewportSize({ width: 1280, height: HEIGHT });
}

for (const mount of Object.keys(MOUNTS)) {
  for (const theme of ['light', 'dark']) {
    test(`${mount}, ${theme}: every state has no axe violation and no broken layout`, async ({ page, context }) => {
      test.setTimeout(240_000);
      const main = await startServer();
      const reader = await startServer(['--anonymous', 'read']);
      const secret = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'roster-a11y-')), 'hs256.secret');
      fs.writeFileSync(secret, 'a-secret-for-the-accessibility-tests-0123456789');
      const locked = await startServer(['--auth-hs256-secret-file', secret]);
      servers.push(main, reader, locked);
      const status = page.getByTestId('connection-status');
      const filter = page.getByTestId('filter');
      const check = (state) => checkState(page, mount, state);

      await MOUNTS[mount].open(page, main, theme);
      await expect(status).toHaveAttribute('data-state', 'connected');
      await expect(page.getByTestId('user-count')).toHaveAttribute('value', String(USERS));
      await check('connected');

      await filter.fill('Ada');
      await expect(page.getByTestId('shown-count')).not.toBeEmpty();
      await check('a filter that matches some');
      await filter.fill('no such person');
      await expect(page.getByTestId('user-list-empty')).toBeVisible();
      await check('a filter that matches nothing');
      await filter.fill('');

      // Users arriving below the view, read from the top.
      await main.add();
      await main.add();
      await expect(page.getByTestId('new-users')).toHaveText('2 new users ↓');
      await check('"N new" shown');

      await page.getByTestId('pause-toggle').click();
      await main.add();
      await expect(page.getByTestId('pause-toggle')).toHaveText('Resume (1 change held)');
      await check('paused, a change held');
      await page.getByTestId('pause-toggle').click();

      await main.stop();
      await expect(status).toHaveAttribute('data-state', 'reconnecting');
      await expect(page.getByTestId('attempt')).toBeVisible();
      await check('reconnecting, with its details');

      await page.getByTestId('add-user').click();
      await expect(page.getByTestId('pending-count')).toHaveText('1 waiting to send');
      await check('adds waiting');

      await context.setOffline(true);
      await expect(status).toHaveAttribute('data-state', 'offline');
      await check('offline');
      await context.setOffline(false);
      await main.start();
      await expect(status).toHaveAttribute('data-state', 'connected');
      await expect(page.getByTestId('pending-count')).toHaveCount(0);

      await MOUNTS[mount].open(page, reader, theme);
      await expect(page.getByTestId('read-only')).toBeVisible();
      await check('read-only');

      // No token where one is needed: refused (4401), closed, said why.
      await MOUNTS[mount].open(page, locked, theme);
      await expect(status).toHaveAttribute('data-state', 'closed');
      await expect(page.getByTestId('error-banner')).toBeVisible();
      await check('closed, with the error view');
    });
  }
}

test('in forced colours the status dot and focus rings stay visible and the state is in words', async ({ page }) => {
  const server = await startServer();
  servers.push(server);
  await page.emulateMedia({ forcedColors: 'active' });
  await page.goto(`${server.origin}/`);
  const status = page.getByTestId('connection-status');
  await expect(status).toHaveAttribute('data-state', 'connected');
  await expect(status.locator('[role=status]')).toHaveText('Live');
  const dot = await status.locator('.connection-dot').evaluate((element) => {
    const style = getComputedStyle(element);
    const badge = getComputedStyle(element.parentElement);
    const box = element.getBoundingClientRect();
    return { width: box.width, dot: style.backgroundColor, badge: badge.backgroundColor, border: style.borderTopStyle };
  });
  expect(dot.width).toBeGreaterThan(4);
  expect(dot.dot).not.toBe(dot.badge);
  expect(dot.border).toBe('solid');
  // Each control, reached by keyboard, shows a ring at least 2 px wide.
  for (const testid of ['disconnect', 'pause-toggle', 'add-user', 'filter']) {
    await page.getByTestId(testid).focus();
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Tab');
    const ring = await page.getByTestId(testid).evaluate((element) => {
      const style = getComputedStyle(element);
      return { focused: element.matches(':focus-visible'), style: style.outlineStyle, width: parseFloat(style.outlineWidth) };
    });
    expect(ring, testid).toEqual({ focused: true, style: 'solid', width: expect.any(Number) });
    expect(ring.width, testid).toBeGreaterThanOrEqual(2);
  }
});

test('with reduced motion nothing animates, whatever happens', async ({ page }) => {
  const server = await startServer();
  servers.push(server);
  await page.emulateMedia({ reducedMotion: 'reduce' });
  await page.goto(`${server.origin}/`);
  await expect(page.getByTestId('connection-status')).toHaveAttribute('data-state', 'connected');
  await server.add();
  await expect(page.getByTestId('new-users')).toBeVisible();
  await page.getByTestId('new-users').click();
  await page.getByTestId('pause-toggle').click();
  await page.getByTestId('pause-toggle').click();
  await page.getByTestId('add-user').hover();
  const motion = await page.evaluate(() => ({
    animations: document.getAnimations().length,
    scroll: getComputedStyle(document.querySelector('[data-testid=user-list-scroller]')).scrollBehavior,
    transitions: [...document.querySelectorAll('.roster *')].filter((e) => parseFloat(getComputedStyle(e).transitionDuration) > 0).length,
  }));
  expect(motion).toEqual({ animations: 0, scroll: 'auto', transitions: 0 });
});

test('at 200 % zoom nothing is lost: every control and the list are there and nothing scrolls sideways', async ({ page }) => {
  const server = await startServer();
  servers.push(server);
  // A 1280 × 800 window at 200 %: 640 × 400 CSS pixels, each two device
  // pixels.
  await page.setViewportSize({ width: 640, height: 400 });
  await page.goto(`${server.origin}/`);
  await expect(page.getByTestId('connection-status')).toHaveAttribute('data-state', 'connected');
  expect(await page.evaluate(layoutProblems, null)).toEqual([]);
  const sideways = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(sideways).toBeLessThanOrEqual(0);
  for (const testid of ['connection-status', 'user-count', 'pause-toggle', 'add-user', 'filter', 'user-list-scroller']) {
    await page.getByTestId(testid).scrollIntoViewIfNeeded();
    await expect(page.getByTestId(testid)).toBeInViewport();
  }
  // The list scrolls to its last user.
  const scroller = page.getByTestId('user-list-scroller');
  await scroller.evaluate((element) => { element.scrollTop = element.scrollHeight; });
  await expect(page.locator(`[data-testid=user-row][data-user-id="${USERS}"]`)).toBeInViewport();
});
