// The deployment in deploy/: Redis, three roster-server instances and
// Debian's nginx terminating TLS, started by deploy/cluster.sh on free
// ports with a self-signed certificate it makes. Two pages on two
// different instances, both over wss:// through nginx: an add on one
// appears on the other. nginx sends the client's files from disk,
// precompressed by `roster-server precompress`.
const fs = require('node:fs');
const https = require('node:https');
const path = require('node:path');
const { test, expect } = require('@playwright/test');
const { DIST } = require('../support/server');
const { Cluster } = require('../support/cluster');

let cluster;
let port;

/** The instance whose connection count went up from `before`. */
const instanceGaining = (before) => cluster.instanceGaining(before);
const connections = () => cluster.connections();

test.beforeAll(async () => {
  cluster = await Cluster.start();
  port = cluster.port;
});

test.afterAll(async () => {
  await cluster?.stop();
});

/** GET `path` from nginx as it is on the wire (no decompression). */
function rawGet(path, headers) {
  return new Promise((resolve, reject) => {
    const request = https.get({ host: '127.0.0.1', port, path, headers, rejectUnauthorized: false }, (response) => {
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode, headers: response.headers, body: Buffer.concat(chunks) }));
    });
    request.on('error', reject);
  });
}

test('nginx sends the client\'s files precompressed, in the form each browser accepts', async () => {
  for (const file of ['roster_bg.wasm', 'roster.js']) {
    const onDisk = fs.readFileSync(path.join(DIST, file));
    for (const [accept, encoding, suffix] of [['br, gzip', 'br', '.br'], ['gzip', 'gzip', '.gz'], ['identity', undefined, '']]) {
      const response = await rawGet(`/${file}`, { 'accept-encoding': accept });
      expect(response.status, `${file} ${accept}`).toBe(200);
      expect(response.headers['content-encoding'], `${file} ${accept}`).toBe(encoding);
      expect(response.headers.vary, `${file} ${accept}`).toMatch(/Accept-Encoding/i);
      expect(response.headers['cache-control']).toBe('no-cache');
      expect(response.body.equals(fs.readFileSync(path.join(DIST, file + suffix))), `${file}${suffix} as on disk`).toBe(true);
      if (suffix) expect(response.body.length).toBeLessThan(onDisk.length / 2);
      // Revalidated with its ETag: 304, no body.
      const again = await rawGet(`/${file}`, { 'accept-encoding': accept, 'if-none-match': response.headers.etag });
      expect(again.status, `${file} ${accept} revalidated`).toBe(304);
    }
  }
  // Pages come from the instances, with their Content-Security-Policy.
  const page = await rawGet('/', { 'accept-encoding': 'br' });
  expect(page.headers['content-security-policy']).toContain("script-src");
  expect(page.headers['content-encoding']).toBe('br');
});

test('two pages on two instances behind nginx over wss:// see each other\'s adds', async ({ browser }) => {
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  const origin = `https://127.0.0.1:${port}`;
  const health = await context.request.get(`${origin}/healthz`);
  expect(health.ok()).toBe(true);
  expect((await health.json()).store).toMatchObject({ kind: 'redis', durability_safe: true });

  const first = await context.newPage();
  let before = await connections();
  await first.goto(`${origin}/`);
  await expect(first.getByTestId('connection-status')).toHaveAttribute('data-state', 'connected');
  await expect(first.getByTestId('connection-status')).toHaveAttribute('data-protocol', 'roster.v1');
  const firstInstance = await instanceGaining(before);

  // nginx spreads new connections over the instances; open the second page
  // until it lands on another one.
  const second = await context.newPage();
  let secondInstance = firstInstance;
  for (let tries = 0; tries < 8 && secondInstance === firstInstance; tries++) {
    before = await connections();
    await second.goto(`${origin}/?try=${tries}`);
    await expect(second.getByTestId('connection-status')).toHaveAttribute('data-state', 'connected');
    secondInstance = await instanceGaining(before);
  }
  expect(secondInstance).not.toBe(firstInstance);
  expect(await second.evaluate(() => location.protocol)).toBe('https:');

  const count = Number(await second.getByTestId('user-count').getAttribute('value'));
  await first.getByTestId('add-user').click();
  await expect(second.getByTestId('user-count')).toHaveAttribute('value', String(count + 1));
  await expect(first.getByTestId('user-count')).toHaveAttribute('value', String(count + 1));
  await context.close();
});
