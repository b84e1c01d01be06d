// The baseline for the server benchmark: a plain Node.js `ws` server that
// speaks the subset of Roster protocol v1 the load generator uses, written
// as a Node developer would (one process, the list in memory, one
// JSON.stringify per change shared by every client):
//   hello → snapshot; add → ack to the sender and change to everyone;
//   ping → pong. A client that connects without roster.v1 speaks the seed
//   protocol: the whole list on connect and after every change,
//   `__addUser__` to add.
//
//   node bench/node-server/server.js PORT [DEMO_USERS]
//
// It prints "listening" once ready. `ws` comes from tests/e2e/node_modules.
const path = require('node:path');
const http = require('node:http');
const { WebSocketServer } = require(path.join(__dirname, '../../tests/e2e/node_modules/ws'));

const port = Number(process.argv[2] || 8090);
const demoUsers = Number(process.argv[3] || 0);
const epoch = Math.random().toString(16).slice(2);
const users = [];
let version = 0;
let nextId = 1;
const requests = new Map();

function newUser(name, email) {
  const id = String(nextId++);
  return { id, name: name || `User ${id}`, email: email || `user.${id}@roster.test` };
}
for (let i = 0; i < demoUsers; i++) {
  users.push(newUser());
  version++;
}

const server = http.createServer((req, res) => {
  if (req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: 'ok', users: users.length, version }));
  } else {
    res.writeHead(404).end();
  }
});
const wss = new WebSocketServer({
  server,
  path: '/api/v1/users/ws',
  handleProtocols: (protocols) => (protocols.has('roster.v1') ? 'roster.v1' : false),
});

/** Adds a user and tells everyone: the change to v1 clients that said
 * hello, the whole list to seed clients. Returns the ack. */
function addUser(requestId, name, email) {
  const user = newUser(name, email);
  users.push(user);
  version++;
  const change = JSON.stringify({ type: 'change', version, op: 'added', user });
  let list = null;
  for (const client of wss.clients) {
    if (client.readyState !== 1) continue;
    if (client.hello) client.send(change);
    else if (client.protocol !== 'roster.v1') client.send((list ??= JSON.stringify(users)));
  }
  return { type: 'ack', request_id: requestId, version, user };
}

wss.on('connection', (socket) => {
  const v1 = socket.protocol === 'roster.v1';
  if (!v1) socket.send(JSON.stringify(users));
  socket.on('message', (data, isBinary) => {
    if (isBinary) return;
    if (!v1) {
      if (String(data) === '__addUser__') addUser(null);
      return;
    }
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      socket.send(JSON.stringify({ type: 'error', code: 'malformed_json', message: 'not JSON' }));
      return;
    }
    if (message.type === 'hello') {
      socket.hello = true;
      socket.send(JSON.stringify({ type: 'snapshot', epoch, version, users }));
    } else if (message.type === 'ping') {
      socket.send(JSON.stringify({ type: 'pong', nonce: message.nonce }));
    } else if (message.type === 'add') {
      const earlier = requests.get(message.request_id);
      if (earlier) {
        socket.send(JSON.stringify({ ...earlier, replayed: true }));
        return;
      }
      const ack = addUser(message.request_id, message.name, message.email);
      requests.set(message.request_id, ack);
      socket.send(JSON.stringify(ack));
    }
  });
});

server.listen(port, '127.0.0.1', () => console.log('listening'));
