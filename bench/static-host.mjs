// A static host that compresses, as a CDN or a tuned nginx would: every
// file read once and kept with its brotli (quality 11) and gzip (level 9)
// forms, the smallest form the browser accepts sent with Vary and an ETag,
// and revalidation (no-cache). The cold-load benchmark serves its baseline
// pages (the React widget, the plain-JS page) from it.
//
//   const host = await startStaticHost({ '/': dir, '/x/': otherDir });
//   host.origin; await host.stop();
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import zlib from 'node:zlib';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
};

/** Every file under `dir`, by its path below it. */
function filesUnder(dir, prefix = '') {
  const found = new Map();
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    const name = `${prefix}${entry.name}`;
    if (entry.isDirectory()) {
      for (const [below, file] of filesUnder(full, `${name}/`)) found.set(below, file);
    } else {
      found.set(name, full);
    }
  }
  return found;
}

/** A file's three forms, the smaller ones only where they are smaller. */
function forms(file) {
  const raw = fs.readFileSync(file);
  const type = TYPES[path.extname(file)] ?? 'application/octet-stream';
  const tag = crypto.createHash('sha256').update(raw).digest('hex').slice(0, 16);
  const packed = {
    br: zlib.brotliCompressSync(raw, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } }),
    gzip: zlib.gzipSync(raw, { level: 9 }),
  };
  const smaller = Object.entries(packed).filter(([, bytes]) => bytes.length < raw.length);
  return { type, tag, raw, packed: Object.fromEntries(smaller) };
}

/** Which of `br`, `gzip` an Accept-Encoding header allows. */
function accepted(header = '') {
  const allowed = new Set();
  for (const item of header.split(',')) {
    const [coding, ...params] = item.trim().split(';');
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    if (q && Number(q.slice(2)) === 0) continue;
    allowed.add(coding.trim().toLowerCase());
  }
  return allowed;
}

/** Serves `mounts` (URL prefix → directory) on a free loopback port. */
export async function startStaticHost(mounts) {
  const table = new Map();
  for (const [prefix, dir] of Object.entries(mounts)) {
    for (const [name, file] of filesUnder(dir)) table.set(`${prefix}${name}`, forms(file));
  }
  const server = http.createServer((request, response) => {
    const url = new URL(request.url, 'http://host');
    const key = url.pathname.endsWith('/') ? `${url.pathname}index.html` : url.pathname;
    const file = table.get(key);
    if (!file) {
      response.writeHead(404).end('not found\n');
      return;
    }
    const allowed = accepted(request.headers['accept-encoding']);
    const encoding = ['br', 'gzip'].find((coding) => file.packed[coding] && allowed.has(coding));
    const body = encoding ? file.packed[encoding] : file.raw;
    const etag = `"${file.tag}${encoding ? `-${encoding}` : ''}"`;
    const headers = { 'content-type': file.type, vary: 'Accept-Encoding', etag, 'cache-control': 'no-cache' };
    if (request.headers['if-none-match'] === etag) {
      response.writeHead(304, headers).end();
      return;
    }
    if (encoding) headers['content-encoding'] = encoding;
    headers['content-length'] = body.length;
    response.writeHead(200, headers).end(body);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${server.address().port}`,
    /** The bytes of `name`'s smallest form, for reports. */
    size: (name) => Math.min(...[table.get(name).raw, ...Object.values(table.get(name).packed)].map((b) => b.length)),
    stop: () => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); }),
  };
}
