// Against a Roster server the page speaks roster.v1; seed clients on the
// same server see the same list.
const { test, expect } = require('../support/fixtures');
const WebSocket = require('ws');
const { waitUntil } = require('../support/server');
const { v1Connections } = require('../support/metrics');
const { RosterPage } = require('../support/roster-page');

/** A seed (legacy) client: offers no subprotocol, reads whole lists. */
async function legacyClient(server) {
  const url = server.wsUrl;
  const socket = new WebSocket(url, { origin: server.origin });
  const lists = [];
  socket.on('message', (data) => lists.push(JSON.parse(data.toString())));
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  return {
    socket,
    lists,
    latest: () => lists.at(-1)?.map((u) => u.id),
  };
}

test('the page negotiates roster.v1 and every add is acknowledged', async ({ page, server }) => {
  const roster = await new RosterPage(page).open(server.origin);
  await roster.expectState('connected');
  await waitUntil('a v1 connection', async () => (await v1Connections(server.origin)) === 1);
  expect(await server.metric('roster_connections{protocol="seed"}')).toBe(0);

  for (let i = 0; i < 3; i++) await roster.addUser();
  await roster.expectUserIds(['1', '2', '3']);
  // Pending counts down on acks, not sends.
  await expect(roster.pending).toHaveCount(0);
  expect(await server.metric('roster_adds_total')).toBe(3);
});

test('a seed client and a v1 page see the same adds, both ways', async ({ page, server }) => {
  const roster = await new RosterPage(page).open(server.origin);
  await roster.expectState('connected');
  const legacy = await legacyClient(server);

  await roster.addUser();
  await waitUntil('the legacy client to see the page\'s add', () => legacy.latest()?.join() === '1');

  legacy.socket.send('__addUser__');
  await roster.expectUserIds(['1', '2']);

  legacy.socket.send('__removeUser__');
  await roster.expectUserIds(['1']);
  await waitUntil('the legacy client to see the removal', () => legacy.latest()?.join() === '1');
  legacy.socket.close();
});

test('the page shows how many viewers the list has', async ({ page, browser, server }) => {
  const roster = await new RosterPage(page).open(server.origin);
  await expect(roster.viewers).toHaveText('1');
  const other = await browser.newPage();
  await new RosterPage(other).open(server.origin);
  await expect(roster.viewers).toHaveText('2');
  await other.close();
  await expect(roster.viewers).toHaveText('1');
});

test('the page sees changes made over HTTP', async ({ page, server }) => {
  const roster = await new RosterPage(page).open(server.origin);
  await roster.expectState('connected');
  const response = await fetch(`${server.origin}/api/v1/users`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': 'e2e-1' },
    body: JSON.stringify({ name: 'Katherine Johnson', email: 'kj@example.com' }),
  });
  expect(response.status).toBe(201);
  await roster.expectUserIds(['1']);
  await expect(roster.rows.first()).toContainText('Katherine Johnson');
});
