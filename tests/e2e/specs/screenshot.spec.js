// Makes the README's screenshot from a real session. It is written to
// target/e2e/screenshot.png; with UPDATE_SCREENSHOT=1 also to
// docs/screenshot.png, which is committed.
const path = require('node:path');
const { test, expect } = require('@playwright/test');
const { RosterServer } = require('../support/server');
const { RosterPage } = require('../support/roster-page');

test('a live list, as a person sees it', async ({ browser }) => {
  const server = await RosterServer.start();
  try {
    const page = await browser.newPage({ viewport: { width: 820, height: 560 } });
    const roster = await new RosterPage(page).open(server.origin);
    await roster.expectState('connected');
    for (let i = 0; i < 5; i++) await roster.addUser();
    await roster.expectUserIds(['1', '2', '3', '4', '5']);
    await expect(roster.status).toContainText('Live');

    const repo = path.resolve(__dirname, '../../..');
    const shot = await page.screenshot({ path: path.join(repo, 'target/e2e/screenshot.png') });
    expect(shot.length).toBeGreaterThan(1000);
    if (process.env.UPDATE_SCREENSHOT === '1') {
      await page.screenshot({ path: path.join(repo, 'docs/screenshot.png') });
    }
  } finally {
    await server.dispose();
  }
});
