// A plain static file server, as a CDN or any web server would host dist/:
// files under one path prefix, 404 for everything else. It records every
// request, so a test can tell which asset URLs the page asked for.
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.wasm': 'application/wasm',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
};

class StaticServer {
  /**
   * Serves the files of `dir` under `prefix` (e.g. `/apps/team/roster/`),
   * and `pages`, a map of paths to HTML, as they are.
   */
  static async start(dir, prefix, pages = {}) {
    const server = new StaticServer(dir, prefix, pages);
    await new Promise((resolve) => server.http.listen(0, '127.0.0.1', resolve));
    server.origin = `http://127.0.0.1:${server.http.address().port}`;
    return server;
  }

  constructor(dir, prefix, pages) {
    this.requests = [];
    this.handlers = {};
    this.pages = pages;
    this.http = http.createServer((request, response) => {
      const url = new URL(request.url, 'http://localhost');
      this.requests.push(url.pathname);
      if (this.handlers[url.pathname]) {
        response.writeHead(200, { 'content-type': 'text/plain' }).end(this.handlers[url.pathname]());
        return;
      }
      if (pages[url.pathname] !== undefined) {
        response.writeHead(200, { 'content-type': TYPES['.html'] }).end(pages[url.pathname]);
        return;
      }
      let file = null;
      if (url.pathname.startsWith(prefix)) {
        const name = url.pathname.slice(prefix.length) || 'index.html';
        const candidate = path.join(dir, name);
        if (candidate.startsWith(dir) && fs.existsSync(candidate) && fs.statSync(candidate).isFile()) file = candidate;
      }
      if (!file) {
        response.writeHead(404).end('not found');
        return;
      }
      response.writeHead(200, { 'content-type': TYPES[path.extname(file)] || 'application/octet-stream' });
      fs.createReadStream(file).pipe(response);
    });
  }

  /** Serves `html` at `path` from now on. */
  page(path, html) {
    this.pages[path] = html;
  }

  /** Answers `path` with what `answer()` gives at each request (text). */
  handle(path, answer) {
    this.handlers[path] = answer;
  }

  async stop() {
    this.http.closeAllConnections();
    await new Promise((resolve) => this.http.close(resolve));
  }
}

module.exports = { StaticServer };
