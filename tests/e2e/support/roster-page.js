// A page object for Roster: the stable data-testid interface, nothing else.
const { expect } = require('@playwright/test');

class RosterPage {
  constructor(page) {
    this.page = page;
    this.status = page.getByTestId('connection-status');
    this.rows = page.getByTestId('user-row');
    this.count = page.getByTestId('user-count');
    this.addButton = page.getByTestId('add-user');
    this.lastError = page.getByTestId('last-error');
    this.errorBanner = page.getByTestId('error-banner');
    this.pending = page.getByTestId('pending-count');
    this.viewers = page.getByTestId('viewer-count');
    this.attempt = page.getByTestId('attempt');
    this.nextRetry = page.getByTestId('next-retry');
    this.detail = page.getByTestId('connection-detail');
    this.retryButton = page.getByTestId('retry-now');
    this.disconnectButton = page.getByTestId('disconnect');
  }

  async open(origin, query = '') {
    await this.page.goto(`${origin}/${query}`);
    return this;
  }

  async expectState(state, options) {
    await expect(this.status).toHaveAttribute('data-state', state, options);
  }

  /**
   * Waits for `state`, checking the page every 10 ms (expect's polling
   * backs off to a second), so the moment it returns is the page's own.
   */
  async waitForStateExactly(state, timeout) {
    await this.page.waitForFunction(
      (wanted) => document.querySelector('[data-testid=connection-status]').dataset.state === wanted,
      state,
      { polling: 10, timeout },
    );
  }

  /** Opens with the engine's settings in the query string, e.g. `{ ping_ms: 500 }`. */
  async openWith(origin, settings) {
    const query = new URLSearchParams(Object.entries(settings).map(([k, v]) => [k, String(v)]));
    return this.open(origin, `?${query}`);
  }

  /** Waits until the rows show exactly these ids, in this order. */
  async expectUserIds(ids) {
    await expect(this.rows).toHaveCount(ids.length);
    for (let i = 0; i < ids.length; i++) {
      await expect(this.rows.nth(i)).toHaveAttribute('data-user-id', String(ids[i]));
    }
    await expect(this.count).toHaveAttribute('value', String(ids.length));
  }

  async addUser() {
    await this.addButton.click();
  }
}

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const between = (low, high) => low + Math.random() * (high - low);

/**
 * Presses Add on `roster` like an impatient person (every 60–200 ms) until
 * `running()` is false; returns how many presses there were.
 */
async function keepAdding(roster, running) {
  let presses = 0;
  while (running()) {
    await roster.addUser();
    presses += 1;
    // The pace of a person's clicks, not a wait for anything.
    await pause(between(60, 200));
  }
  return presses;
}

/** Every user id the page's list holds, in order, read by scrolling it. */
async function idsOnPage(page) {
  return page.evaluate(async () => {
    const scroller = document.querySelector('[data-testid=user-list-scroller]');
    const ids = [];
    scroller.scrollTop = 0;
    for (;;) {
      await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
      for (const row of document.querySelectorAll('[data-testid=user-row]')) {
        ids[Number(row.getAttribute('aria-posinset')) - 1] = row.dataset.userId;
      }
      if (scroller.scrollTop + scroller.clientHeight >= scroller.scrollHeight - 1) break;
      scroller.scrollTop += scroller.clientHeight / 2;
    }
    return ids;
  });
}

module.exports = { RosterPage, keepAdding, idsOnPage };
