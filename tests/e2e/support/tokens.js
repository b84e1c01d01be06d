// HS256 tokens for the access specs, made with Node's own crypto as a
// dashboard backend would, and signed with the server tests' fixture
// secret (crates/server/tests/fixtures/keys/hs256.secret).
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const SECRET_FILE = path.resolve(__dirname, '../../../crates/server/tests/fixtures/keys/hs256.secret');
const SECRET = fs.readFileSync(SECRET_FILE, 'utf8').trim();

const part = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A token for `sub` with `scope`, valid for `ttlSeconds`. */
function mint(sub, scope = 'roster:read roster:write', ttlSeconds = 600) {
  const now = Math.floor(Date.now() / 1000);
  const body = `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ sub, scope, aud: 'roster', iat: now, exp: now + ttlSeconds })}`;
  const signature = crypto.createHmac('sha256', SECRET).update(body).digest('base64url');
  return `${body}.${signature}`;
}

/** roster-server flags that check these tokens and let nobody in without one. */
const GUARDED = ['--auth-hs256-secret-file', SECRET_FILE];

module.exports = { mint, GUARDED, SECRET_FILE };
