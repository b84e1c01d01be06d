// Pages on named lists: `?list=` shows that list and says which; a page
// without one looks as it always did; a list that does not exist, or is
// deleted while open, is said in words and not retried.
const { test, expect } = require('@playwright/test');
const { RosterServer } = require('../support/server');
const { RosterPage } = require('../support/roster-page');
const { metricAt } = require('../support/metrics');
const { mint, GUARDED } = require('../support/tokens');

let servers = [];
test.afterEach(async () => {
  await Promise.all(servers.map((s) => s.dispose()));
  servers = [];
});

/** A server with lists team-a and team-b, open to pages without a token. */
async function serverWithLists(args = []) {
  const server = await RosterServer.start(undefined, {
    args: ['--list', 'team-a,team-b', '--anonymous', 'write', '--anonymous-lists', '*', ...args],
  });
  servers.push(server);
  return server;
}

const accepted = (server) => metricAt(server.origin, 'roster_connections_accepted_total{protocol="roster.v1"}');

test('?list= shows that list and names it; a page without one shows default unnamed', async ({ browser }) => {
  const server = await serverWithLists();
  await server.add({ name: 'Ada Lovelace' }, 'team-a');
  await server.add({ name: 'Default Person' });

  const teamPage = await browser.newPage();
  const team = await new RosterPage(teamPage).open(server.origin, '?list=team-a');
  await team.expectState('connected');
  await expect(team.rows).toHaveCount(1);
  await expect(team.rows).toContainText('Ada Lovelace');
  await expect(teamPage.getByTestId('list-name')).toHaveText('team-a');
  await expect(teamPage.getByRole('region', { name: 'Roster: team-a' })).toBeVisible();
  await expect(teamPage).toHaveTitle('Roster: team-a');

  const plainPage = await browser.newPage();
  const plain = await new RosterPage(plainPage).open(server.origin);
  await plain.expectState('connected');
  await expect(plain.rows).toHaveCount(1);
  await expect(plain.rows).toContainText('Default Person');
  await expect(plainPage.getByTestId('list-name')).toHaveCount(0);
  await expect(plainPage).toHaveTitle('Roster');
  await expect(plainPage.getByRole('region', { name: 'Roster', exact: true })).toBeVisible();

  // An add on one list reaches that list's pages only.
  await team.addUser();
  await expect(team.rows).toHaveCount(2);
  expect(await server.users('team-a')).toHaveLength(2);
  await server.add({ name: 'Grace Hopper' }, 'team-a');
  await expect(team.rows).toHaveCount(3);
  await expect(plain.rows).toHaveCount(1);
  expect(await server.users()).toHaveLength(1);
});

test('a list that does not exist is named in words and not retried', async ({ page }) => {
  const server = await serverWithLists();
  const roster = await new RosterPage(page).open(server.origin, '?list=nowhere&backoff_base_ms=50');
  await roster.expectState('closed');
  await expect(roster.lastError).toHaveAttribute('data-problem', 'no_such_list');
  await expect(roster.lastError).toContainText('No list named nowhere');
  // Closed, not waiting to retry: the engine scheduled nothing.
  await expect(roster.nextRetry).toHaveCount(0);
  await expect(roster.retryButton).toBeVisible();
  expect(await accepted(server)).toBeLessThanOrEqual(2);
});

test('a list deleted while open says so, and the page stops', async ({ page }) => {
  const server = await serverWithLists(GUARDED);
  const roster = await new RosterPage(page).open(server.origin, '?list=team-b&backoff_base_ms=50');
  await roster.expectState('connected');
  const deleted = await fetch(`${server.origin}/api/v1/lists/team-b`, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${mint('ops', 'roster:admin:team-*')}` },
  });
  expect(deleted.status).toBe(200);
  await roster.expectState('closed');
  await expect(roster.lastError).toHaveAttribute('data-problem', 'list_deleted');
  await expect(roster.lastError).toContainText('This list was deleted');
  await expect(roster.nextRetry).toHaveCount(0);
});
