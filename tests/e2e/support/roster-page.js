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

module.exports = { RosterPage };
