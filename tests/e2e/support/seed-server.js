// A stand-in for the seed's Dart Frog server (variant B of
// shared/seed-protocol.md), built from that description: the whole list as
// a JSON array joined with ", " on connect and after every change,
// `__addUser__` / `__removeUser__`, everything else ignored, no pongs, no
// acks. `numericIds` makes it send ids as JSON numbers, as the
// Postgres-backed variant does.
const http = require('node:http');
const { WebSocketServer } = require('ws');

async function startSeedServer({ numericIds = false, initialUsers = 0 } = {}) {
  const users = [];
  const received = [];
  const encodeUser = (u) =>
    JSON.stringify({ id: numericIds ? u.id : String(u.id), name: u.name, email: u.email });
  const frame = () => `[${users.map(encodeUser).join(', ')}]`;
  const add = () => users.push({ id: users.length, name: 'Test', email: 'Test' });
  for (let i = 0; i < initialUsers; i++) add();

  const server = http.createServer((_, res) => res.writeHead(404).end());
  // Dart's WebSocketTransformer selects no subprotocol unless given a
  // selector, and the seed servers give none; `ws` would select the first
  // one offered, so it is told not to. Roster's client then speaks seed.
  const wss = new WebSocketServer({ server, path: '/api/v1/users/ws', handleProtocols: () => false });
  const broadcast = () => wss.clients.forEach((c) => c.send(frame()));
  wss.on('connection', (socket) => {
    socket.send(frame());
    socket.on('message', (data, isBinary) => {
      const text = isBinary ? null : data.toString();
      received.push(text);
      if (text === '__addUser__') {
        add();
        broadcast();
      } else if (text === '__removeUser__' && users.length > 0) {
        users.pop();
        broadcast();
      }
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    wsUrl: `ws://127.0.0.1:${port}/api/v1/users/ws`,
    users,
    received,
    /** Sends a raw frame to every client, to test what a client does with it. */
    sendRaw(data) {
      wss.clients.forEach((c) => c.send(data));
    },
    /** Closes every client's socket with `code` and `reason`. */
    closeAll(code, reason = '') {
      wss.clients.forEach((c) => c.close(code, reason));
    },
    /** How many sockets are open. */
    get connections() {
      return wss.clients.size;
    },
    async stop() {
      wss.clients.forEach((c) => c.terminate());
      await new Promise((resolve) => wss.close(() => server.close(resolve)));
    },
  };
}

module.exports = { startSeedServer };
