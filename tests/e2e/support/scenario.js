// What every fault scenario does around its fault: pages followed by the
// history checker, and the end where everything settles and is checked.
const { expect } = require('@playwright/test');
const { History } = require('./history');
const { RosterPage, idsOnPage } = require('./roster-page');

/**
 * Page settings for the scenarios: a silent server is noticed within
 * 2 s (ping 1 s + pong 1 s), and nothing pressed may expire or overflow,
 * so every press must end up stored. Backoff stays at its defaults.
 */
const FAULT_SETTINGS = {
  ping_ms: 1000,
  pong_timeout_ms: 1000,
  connect_timeout_ms: 2000,
  outbox_max: 10_000,
  outbox_ttl_ms: 3_600_000,
};

/** A scenario's pages, instances and history. */
class Scenario {
  constructor() {
    this.history = new History();
    this.pages = new Map();
    this.instances = new Map();
  }

  /** An instance whose final list is checked: anything with `users()`. */
  instance(name, server) {
    this.instances.set(name, server);
    return server;
  }

  /** Opens `origin` in a new page of `context`, followed as `name`. */
  async open(context, name, origin, settings = FAULT_SETTINGS) {
    const page = await context.newPage();
    this.history.follow(page, name);
    const roster = new RosterPage(page);
    const query = new URLSearchParams(Object.entries(settings).map(([k, v]) => [k, String(v)]));
    await page.goto(`${origin}/?${query}`);
    await roster.expectState('connected');
    this.pages.set(name, roster);
    return roster;
  }

  /**
   * Waits (up to `ms`) until every page has nothing waiting and holds as
   * many users as the first instance, and every instance the same list;
   * then records the finals and returns what the checker found, with the
   * time it took to settle.
   */
  async settle(ms = 30_000) {
    const started = Date.now();
    const deadline = () => Math.max(1_000, ms - (Date.now() - started));
    const [first, ...others] = [...this.instances.values()];
    for (const roster of this.pages.values()) {
      await expect(roster.pending).toHaveCount(0, { timeout: deadline() });
    }
    let store = [];
    await expect.poll(async () => {
      store = await first.users();
      const lists = await Promise.all(others.map((other) => other.users()));
      return lists.every((list) => JSON.stringify(list) === JSON.stringify(store));
    }, { message: 'every instance holds the same list', timeout: deadline() }).toBe(true);
    for (const roster of this.pages.values()) {
      await roster.expectState('connected', { timeout: deadline() });
      await expect(roster.count).toHaveAttribute('value', String(store.length), { timeout: deadline() });
    }
    const settledMs = Date.now() - started;
    for (const [name, server] of this.instances) this.history.storeFinal(name, await server.users());
    for (const [name, roster] of this.pages) this.history.pageFinal(name, await idsOnPage(roster.page));
    return { problems: this.history.check(), counts: this.history.counts(), settledMs };
  }
}

/** `n` in words for a report row: "1 page", "3 pages". */
const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;

module.exports = { Scenario, FAULT_SETTINGS, plural };
