// The response headers of SECURITY.md, as Chromium enforces them: the
// real page and the embed example run under the server's
// Content-Security-Policy with no violation at all, and a script injected
// into the page is refused.
const { test, expect } = require('@playwright/test');
const { RosterServer, EXAMPLE_LISTS } = require('../support/server');
const { RosterPage } = require('../support/roster-page');

let servers = [];
test.afterEach(async () => {
  await Promise.all(servers.map((s) => s.dispose()));
  servers = [];
});

/** Records every CSP violation the page reports, from its first script on. */
async function recordViolations(page) {
  await page.addInitScript(() => {
    window.cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) =>
      window.cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sample}`),
    );
  });
}

const violations = (page) => page.evaluate(() => window.cspViolations);

test('the page runs under its Content-Security-Policy, which refuses injected scripts', async ({ page }) => {
  const server = await RosterServer.start();
  servers.push(server);
  await recordViolations(page);
  const response = await page.goto(`${server.origin}/`);
  const headers = response.headers();
  expect(headers['content-security-policy']).toContain("'wasm-unsafe-eval'");
  expect(headers['content-security-policy']).toMatch(/script-src 'self' 'wasm-unsafe-eval' 'sha256-[A-Za-z0-9+/]+=*'/);
  expect(headers['x-content-type-options']).toBe('nosniff');
  expect(headers['referrer-policy']).toBe('no-referrer');

  // The wasm compiled, Trunk's inline start-up ran, the socket opened,
  // and an add went through: the whole client works under the policy.
  const roster = new RosterPage(page);
  await roster.expectState('connected');
  await roster.addUser();
  await expect(roster.rows).toHaveCount(1);
  expect(await violations(page)).toEqual([]);

  // An inline script that someone managed to inject does not run.
  const ran = await page.evaluate(async () => {
    window.injectedRan = false;
    const script = document.createElement('script');
    script.textContent = 'window.injectedRan = true';
    document.body.append(script);
    await new Promise((resolve) => setTimeout(resolve, 0));
    return window.injectedRan;
  });
  expect(ran).toBe(false);
  expect((await violations(page)).join('\n')).toContain('script-src');
});

test('the embed example runs under its own policy without a violation', async ({ page }) => {
  const server = await RosterServer.start(undefined, { args: EXAMPLE_LISTS });
  servers.push(server);
  await server.add({ name: 'Ada Lovelace', email: 'ada@team-a.test' }, 'team-a');
  await recordViolations(page);
  const response = await page.goto(`${server.origin}/embed-example.html`);
  expect(response.headers()['content-security-policy']).toContain("'sha256-");
  await expect(page.getByTestId('host-state')).toHaveText('connected');
  await expect(page.locator('#team-a').getByTestId('user-row')).toHaveCount(1);
  await expect(page.frameLocator('#frame').getByTestId('user-row')).toHaveCount(1);
  expect(await violations(page)).toEqual([]);
});
