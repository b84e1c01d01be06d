// Roster in another site's page: ?embed=1 in an iframe tells the host its
// height, so the host can size the frame (README, "Embedding Roster").
const { test, expect } = require('@playwright/test');
const { RosterServer } = require('../support/server');

let server;
test.afterEach(async () => {
  await server?.dispose();
});

test('?embed=1 posts its height to the host page, and again when it changes', async ({ page }) => {
  server = await RosterServer.start();
  // The receiving side, as the README gives it.
  await page.setContent(`
    <iframe id="roster" src="${server.origin}/?embed=1" style="width: 480px; height: 200px; border: 0"></iframe>
    <script>
      window.heights = [];
      const frame = document.getElementById('roster');
      addEventListener('message', (event) => {
        if (event.source !== frame.contentWindow || event.data?.type !== 'roster:height') return;
        window.heights.push(event.data.height);
        frame.style.height = event.data.height + 'px';
      });
    </script>`);
  const roster = page.frameLocator('#roster');
  await expect(roster.getByTestId('connection-status')).toHaveAttribute('data-state', 'connected');
  // The frame's title is for those who move by headings: out of sight.
  const title = await roster.getByRole('heading', { name: 'Roster', level: 1 }).boundingBox();
  expect(title.width * title.height).toBeLessThanOrEqual(1);

  const contentHeight = async () => Math.ceil(await roster.locator('main').evaluate((main) => main.getBoundingClientRect().height));
  const lastPosted = () => page.evaluate(() => window.heights.at(-1));
  await expect.poll(lastPosted).toBe(await contentHeight());

  // The first user replaces "No users yet."; the second adds a row.
  await roster.getByTestId('add-user').click();
  await expect(roster.getByTestId('user-row')).toHaveCount(1);
  await expect.poll(async () => (await lastPosted()) === (await contentHeight())).toBe(true);
  const oneRow = await lastPosted();
  await roster.getByTestId('add-user').click();
  await expect(roster.getByTestId('user-row')).toHaveCount(2);
  await expect.poll(lastPosted).toBe(oneRow + 56);
  expect(await lastPosted()).toBe(await contentHeight());
  // The host sized the frame to fit: nothing inside scrolls.
  const frameHeight = await page.locator('#roster').evaluate((frame) => frame.getBoundingClientRect().height);
  expect(frameHeight).toBe(await lastPosted());
});
