// Playwright's `test`, with a real roster-server for each test that asks
// for `server`: started on a free loopback port before the test, its
// database deleted after. Files that share one server across their tests
// start it in `beforeAll` instead.
const base = require('@playwright/test');
const { RosterServer } = require('./server');

const test = base.test.extend({
  server: async ({}, use) => {
    const server = await RosterServer.start();
    await use(server);
    await server.dispose();
  },
});

module.exports = { test, expect: base.expect };
