// The history checker of the fault scenarios (support/history.js) must
// fail when a promise breaks, or it proves nothing. First on histories
// written out by hand, one broken promise each; then on a real server
// with a bug planted on purpose (ROSTER_PLANTED_BUG=ack-before-commit: a
// debug build acknowledges every fourth add without committing it).
const { test, expect } = require('@playwright/test');
const { RosterServer } = require('../support/server');
const { History } = require('../support/history');
const { Scenario } = require('../support/scenario');
const { record } = require('../support/reliability');

const user = (id, name = `User ${id}`) => ({ id: String(id), name, email: `${name.replace(/ /g, '.').toLowerCase()}@example.com` });

/**
 * A page that added users 1 and 2 (acknowledged) and saw them arrive as
 * versions 1 and 2 after an empty snapshot; `change` edits the history
 * before the store's final list (`store`) is recorded.
 */
function history({ store = [user(1), user(2)], change = () => {} } = {}) {
  const h = new History();
  h.received('p', { type: 'snapshot', epoch: 'e', version: 0, users: [] });
  h.sent('p', { type: 'add', request_id: 'r1' });
  h.received('p', { type: 'change', version: 1, op: 'added', user: user(1) });
  h.received('p', { type: 'ack', request_id: 'r1', user: user(1) });
  h.sent('p', { type: 'add', request_id: 'r2' });
  h.received('p', { type: 'change', version: 2, op: 'added', user: user(2) });
  h.received('p', { type: 'ack', request_id: 'r2', user: user(2) });
  change(h);
  h.storeFinal('store', store);
  h.pageFinal('p', store.map((u) => u.id));
  return h.check();
}

test('the checker passes a history that holds, and names each broken promise', () => {
  expect(history()).toEqual([]);
  const broken = {
    'an acknowledged add lost': history({ store: [user(1)] }),
    'an acknowledged add doubled': history({ store: [user(1), user(2), user(2)] }),
    'an acknowledged add stored as someone else': history({ store: [user(1), user(2, 'Impostor')] }),
    'a user nobody added': history({ store: [user(1), user(2), user(3)] }),
    'a removed user still there': history({
      change: (h) => {
        h.sent('p', { type: 'remove', request_id: 'r3', id: '1' });
        h.received('p', { type: 'ack', request_id: 'r3', user: user(1) });
      },
    }),
    'one request acknowledged as two users': history({
      change: (h) => h.received('p', { type: 'ack', request_id: 'r1', user: user(3) }),
    }),
    'a page that skipped a version': history({
      change: (h) => h.received('p', { type: 'change', version: 4, op: 'added', user: user(4) }),
    }),
    'a version that meant two changes': history({
      change: (h) => {
        h.received('q', { type: 'snapshot', epoch: 'e', version: 0, users: [] });
        h.received('q', { type: 'change', version: 1, op: 'added', user: user(9) });
      },
    }),
    'a stale list': history({
      change: (h) => h.received('p', { type: 'snapshot', epoch: 'e', version: 1, users: [user(1)] }),
    }),
    'a page that ends unlike the store': (() => {
      const h = new History();
      h.storeFinal('store', [user(1)]);
      h.pageFinal('p', []);
      return h.check();
    })(),
  };
  for (const [what, problems] of Object.entries(broken)) {
    expect(problems.length, `${what}: ${JSON.stringify(problems)}`).toBeGreaterThan(0);
  }
});

test('a server that acknowledges before it commits is caught by the checker', async ({ browser }) => {
  process.env.ROSTER_PLANTED_BUG = 'ack-before-commit';
  const server = await RosterServer.start();
  delete process.env.ROSTER_PLANTED_BUG;
  const context = await browser.newContext();
  try {
    const scenario = new Scenario();
    scenario.instance('server', server);
    const roster = await scenario.open(context, 'page', server.origin);
    for (let i = 0; i < 8; i++) await roster.addUser();
    await expect(roster.pending).toHaveCount(0);
    for (const [name, instance] of scenario.instances) scenario.history.storeFinal(name, await instance.users());
    const problems = scenario.history.check();
    expect(problems.some((problem) => problem.startsWith('acknowledged add')), JSON.stringify(problems)).toBe(true);
    record('faults', 'planted bug', 'a debug server that acknowledges every fourth add without committing it (ROSTER_PLANTED_BUG=ack-before-commit)', 8,
      `the checker failed the history, as it must: ${problems[0]}`);
  } finally {
    await context.close();
    await server.dispose();
  }
});
