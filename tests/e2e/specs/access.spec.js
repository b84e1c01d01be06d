// Tokens in the browser: what readers and writers see, a token refreshed
// on a live page before it expires, the three ways of embedding with a
// token (mount's getToken, <roster-users token>, the iframe asking its
// parent page by postMessage), and removes that survive a reload.
const { test, expect } = require('@playwright/test');
const { RosterServer, DIST, waitUntil } = require('../support/server');
const { StaticServer } = require('../support/static-server');
const { RosterPage } = require('../support/roster-page');
const { hostPage } = require('../support/host-page');
const { metricAt } = require('../support/metrics');
const { mint, GUARDED } = require('../support/tokens');

let servers = [];
let hosts = [];
test.afterEach(async () => {
  await Promise.all(servers.map((s) => s.dispose()));
  await Promise.all(hosts.map((h) => h.stop()));
  servers = [];
  hosts = [];
});

async function guardedServer(args = []) {
  const server = await RosterServer.start(undefined, { args: [...GUARDED, ...args] });
  servers.push(server);
  return server;
}

async function host(pages) {
  const started = await StaticServer.start(DIST, '/', pages);
  hosts.push(started);
  return started;
}

/** Adds `count` users with a writer's token, over HTTP. */
async function seed(server, count) {
  for (let i = 0; i < count; i++) {
    const response = await fetch(`${server.origin}/api/v1/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${mint('setup')}` },
      body: JSON.stringify({ name: `Person ${i + 1}` }),
    });
    expect(response.status).toBe(201);
  }
}

const accepted = (server) => metricAt(server.origin, 'roster_connections_accepted_total{protocol="roster.v1"}');
const usersOf = async (server) => (await fetch(`${server.origin}/api/v1/users`, { headers: { authorization: `Bearer ${mint('check')}` } })).json();

test('a reader sees the list read-only; a writer removes a user by keyboard, announced by name', async ({ page }) => {
  const server = await guardedServer();
  await seed(server, 3);

  const reader = await new RosterPage(page).open(server.origin, `?token=${mint('bob', 'roster:read')}`);
  await reader.expectState('connected');
  await expect(reader.rows).toHaveCount(3);
  await expect(page.getByTestId('read-only')).toBeVisible();
  await expect(reader.addButton).toHaveCount(0);
  await expect(page.getByTestId('remove-user')).toHaveCount(0);

  const writer = await new RosterPage(page).open(server.origin, `?token=${mint('ada')}`);
  await writer.expectState('connected');
  await expect(page.getByTestId('read-only')).toHaveCount(0);
  await expect(writer.addButton).toBeVisible();
  const remove = page.getByRole('button', { name: 'Remove Person 2' });
  await expect(remove).toBeVisible();
  await remove.focus();
  await page.keyboard.press('Enter');
  await writer.expectUserIds(['1', '3']);
  await expect(writer.pending).toHaveCount(0);
  expect((await usersOf(server)).map((u) => u.id)).toEqual(['1', '3']);
});

test('a token that expires on a live page is refreshed in time: the socket stays and every add lands once', async ({ page }) => {
  const server = await guardedServer(['--auth-grace-ms', '500']);
  const site = await host({
    '/dashboard.html': hostPage('<div id="slot"></div>', server.origin, `
      window.tokenCalls = 0;
      window.handle = mount(document.getElementById('slot'), {
        server: '${server.wsUrl}',
        getToken: async () => {
          window.tokenCalls += 1;
          const answer = await fetch('/token');
          return answer.text();
        },
      });`),
  });
  // Short tokens, so a refresh comes every second or two.
  site.handle('/token', () => mint('ada', 'roster:read roster:write', 3));
  await page.goto(`${site.origin}/dashboard.html`);
  const roster = new RosterPage(page);
  await roster.expectState('connected');
  const first = await page.evaluate(() => window.tokenCalls);
  let presses = 0;
  const until = Date.now() + 7_000;
  while (Date.now() < until) {
    await roster.addUser();
    presses += 1;
    // The pace of a person's clicks, not a wait for anything.
    await page.waitForTimeout(250);
  }
  await waitUntil('every add stored', async () => (await usersOf(server)).length === presses);
  await expect(roster.pending).toHaveCount(0);
  const calls = await page.evaluate(() => window.tokenCalls);
  expect(calls - first, 'getToken asked again before each expiry').toBeGreaterThanOrEqual(2);
  expect(await accepted(server), 'one socket all along').toBe(1);
  await roster.expectState('connected');
});

test('getToken that fails leaves the page closed, saying so, until the host calls refresh()', async ({ page }) => {
  const server = await guardedServer();
  const site = await host({
    '/dashboard.html': hostPage('<div id="slot"></div>', server.origin, `
      window.tokenWorks = false;
      window.handle = mount(document.getElementById('slot'), {
        server: '${server.wsUrl}',
        getToken: () => {
          if (!window.tokenWorks) throw new Error('the session ended');
          return fetch('/token').then((answer) => answer.text());
        },
      });`),
  });
  site.handle('/token', () => mint('ada'));
  await page.goto(`${site.origin}/dashboard.html`);
  const roster = new RosterPage(page);
  await roster.expectState('closed');
  await expect(roster.lastError).toHaveAttribute('data-problem', 'no_token');
  await expect(roster.lastError).toContainText('the session ended');
  expect(await accepted(server)).toBe(0);
  await page.evaluate(() => {
    window.tokenWorks = true;
    window.handle.refresh();
  });
  await roster.expectState('connected');
});

test('<roster-users token> reads with a reader token, and a writer token on the attribute takes over the live socket', async ({ page }) => {
  const server = await guardedServer();
  await seed(server, 1);
  const site = await host({
    '/dashboard.html': hostPage(
      `<roster-users id="users" server="${server.wsUrl}" token="${mint('bob', 'roster:read')}"></roster-users>`,
      server.origin,
    ),
  });
  await page.goto(`${site.origin}/dashboard.html`);
  const element = page.locator('#users');
  await expect(element.getByTestId('connection-status')).toHaveAttribute('data-state', 'connected');
  await expect(element.getByTestId('read-only')).toBeVisible();
  await page.evaluate((token) => document.getElementById('users').setAttribute('token', token), mint('bob'));
  await expect(element.getByTestId('add-user')).toBeVisible();
  await element.getByTestId('add-user').click();
  await expect(element.getByTestId('user-row')).toHaveCount(2);
  expect(await accepted(server), 'the same socket').toBe(1);
});

test('in an iframe the token comes from the parent page, and a message from another origin is ignored', async ({ page }) => {
  const server = await guardedServer();
  const evil = await host({
    '/evil.html': `<!doctype html><script>
      addEventListener('message', (event) => {
        if (event.data !== 'go') return;
        // A writer's token, forged into the Roster frame from this origin.
        parent.frames[0].postMessage({ type: 'roster:token', token: ${JSON.stringify(mint('mallory', 'roster:read'))} }, '*');
        parent.postMessage('forged', '*');
      });
    </script>`,
  });
  const site = await host({});
  const frameUrl = `${server.origin}/?embed=1&parent_origin=${encodeURIComponent(site.origin)}`;
  site.page('/dashboard.html', `<!doctype html><html lang="en"><head><title>Dashboard</title></head><body>
    <iframe id="roster" src="${frameUrl}" title="Users" style="width: 100%; height: 400px"></iframe>
    <iframe id="evil" src="${evil.origin}/evil.html" title="Ad"></iframe>
    <script>
      window.requests = 0;
      const roster = document.getElementById('roster');
      addEventListener('message', (event) => {
        if (event.source === roster.contentWindow && event.data?.type === 'roster:token-request') {
          window.requests += 1;
          // The other origin forges its answer first; then the real one.
          document.getElementById('evil').contentWindow.postMessage('go', '*');
        }
        if (event.data === 'forged') {
          roster.contentWindow.postMessage({ type: 'roster:token', token: ${JSON.stringify(mint('ada'))} }, '${server.origin}');
        }
      });
    </script></body></html>`);
  await page.goto(`${site.origin}/dashboard.html`);
  const frame = page.frameLocator('#roster');
  await expect(frame.getByTestId('connection-status')).toHaveAttribute('data-state', 'connected');
  // The parent's writer token, not the forged reader's.
  await expect(frame.getByTestId('add-user')).toBeVisible();
  await expect(frame.getByTestId('read-only')).toHaveCount(0);
  expect(await page.evaluate(() => window.requests)).toBe(1);
});

test('a remove waiting at a reload is sent after it, exactly once', async ({ page }) => {
  const server = await RosterServer.start();
  servers.push(server);
  await seed(server, 2);
  const site = await host({});
  const query = `?server=${encodeURIComponent(server.wsUrl)}&backoff_cap_ms=300`;
  const roster = await new RosterPage(page).open(site.origin, query);
  await roster.expectUserIds(['1', '2']);
  await server.stop();
  await roster.expectState('reconnecting');
  await page.getByRole('button', { name: 'Remove Person 1' }).click();
  await expect(roster.pending).toContainText('1');
  await page.reload();
  await expect(roster.pending).toContainText('1');
  await server.start();
  await roster.expectUserIds(['2']);
  await expect(roster.pending).toHaveCount(0);
  expect((await server.users()).map((u) => u.id)).toEqual(['2']);
});
