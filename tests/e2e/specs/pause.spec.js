// Pausing live updates: the list holds still, nothing is dropped, and
// resuming shows every change held, in order.
const { test, expect } = require('@playwright/test');
const { RosterServer } = require('../support/server');
const { RosterPage } = require('../support/roster-page');

let server;
test.afterEach(async () => {
  await server?.dispose();
});

async function addOnServer(origin) {
  const response = await fetch(`${origin}/api/v1/users`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}',
  });
  expect(response.status).toBe(201);
}

test('paused, the list holds still and counts what waits; resumed, it shows all of it', async ({ page }) => {
  server = await RosterServer.start();
  const roster = await new RosterPage(page).open(server.origin);
  await roster.expectState('connected');
  await addOnServer(server.origin);
  await roster.expectUserIds(['1']);

  const toggle = page.getByTestId('pause-toggle');
  await toggle.click();
  await expect(toggle).toHaveAttribute('aria-pressed', 'true');
  await addOnServer(server.origin);
  await addOnServer(server.origin);
  await expect(toggle).toHaveText('Resume (2 changes held)');
  await roster.addUser();
  await expect(toggle).toHaveText('Resume (3 changes held)');
  // Still connected and still showing the list as it was.
  await roster.expectState('connected');
  await roster.expectUserIds(['1']);
  expect(await server.users()).toHaveLength(4);

  await toggle.click();
  await expect(toggle).toHaveAttribute('aria-pressed', 'false');
  await expect(toggle).toHaveText('Pause');
  await roster.expectUserIds(['1', '2', '3', '4']);
});
