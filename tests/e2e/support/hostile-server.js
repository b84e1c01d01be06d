// A v1 server that does what the test tells it to, to see what the page
// does with a broken or hostile peer. It speaks roster.v1 correctly by
// default (a snapshot on hello, an ack and a change for every add) and
// lets the test send anything else: raw text, binary, huge frames, floods,
// closes with any code; `state.silent` makes the sockets it accepts from
// then on never speak.
// `startStallingServer` accepts TCP and never answers the handshake.
const http = require('node:http');
const net = require('node:net');
const { WebSocketServer } = require('ws');

const user = (id) => ({ id: String(id), name: `User ${id}`, email: `u${id}@hostile.test` });

async function startHostileServer({ users = 3 } = {}) {
  const state = {
    epoch: 'hostile',
    version: users,
    users: Array.from({ length: users }, (_, i) => user(i)),
    nextId: users,
    silent: false,
    hellos: [],
    connectionsMade: 0,
  };
  const server = http.createServer((_, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({
    server,
    path: '/api/v1/users/ws',
    maxPayload: 1 << 20,
    handleProtocols: (offered) => (offered.has('roster.v1') ? 'roster.v1' : false),
  });
  const snapshot = () =>
    JSON.stringify({ type: 'snapshot', epoch: state.epoch, version: state.version, users: state.users });
  const change = (version, u, op = 'added') => JSON.stringify({ type: 'change', version, op, user: u });
  /** Sends `data` (text, or a Buffer as a binary frame) to every socket. */
  const broadcast = (data) => wss.clients.forEach((c) => c.send(data));
  /** Stores a new user under the next version, and returns it. */
  const storeNewUser = () => {
    const u = user(state.nextId++);
    state.users.push(u);
    state.version += 1;
    return u;
  };
  wss.on('connection', (socket) => {
    state.connectionsMade += 1;
    // A silent socket stays silent for life, however `silent` changes.
    const silent = state.silent;
    socket.on('message', (data, isBinary) => {
      if (silent || isBinary) return;
      let message;
      try {
        message = JSON.parse(data.toString());
      } catch {
        return;
      }
      if (message.type === 'hello') {
        state.hellos.push(message);
        socket.send(snapshot());
      } else if (message.type === 'ping') {
        socket.send(JSON.stringify({ type: 'pong', nonce: message.nonce }));
      } else if (message.type === 'add') {
        const u = storeNewUser();
        socket.send(JSON.stringify({ type: 'ack', request_id: message.request_id, version: state.version, user: u }));
        broadcast(change(state.version, u));
      }
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    wsUrl: `ws://127.0.0.1:${port}/api/v1/users/ws`,
    state,
    user,
    sendRaw: broadcast,
    /** A change of `version` adding a new user, sent but not stored. */
    changeFrame(version, id) {
      return change(version, user(id));
    },
    /** Adds users to the stored list, each with its change sent, in order. */
    addUsers(count) {
      for (let i = 0; i < count; i++) {
        const u = storeNewUser();
        broadcast(change(state.version, u));
      }
    },
    /** Removes the oldest users from the stored list, each with its change sent. */
    removeOldest(count) {
      for (let i = 0; i < count && state.users.length > 0; i++) {
        const u = state.users.shift();
        state.version += 1;
        broadcast(change(state.version, u, 'removed'));
      }
    },
    closeAll(code, reason = '') {
      wss.clients.forEach((c) => c.close(code, reason));
    },
    /** Drops every socket with no close frame (the page sees 1006). */
    terminateAll() {
      wss.clients.forEach((c) => c.terminate());
    },
    get connections() {
      return wss.clients.size;
    },
    async stop() {
      wss.clients.forEach((c) => c.terminate());
      await new Promise((resolve) => wss.close(() => server.close(resolve)));
    },
  };
}

/** Accepts TCP connections and never answers: a handshake that never ends. */
async function startStallingServer() {
  const sockets = new Set();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  let accepted = 0;
  server.on('connection', () => (accepted += 1));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    wsUrl: `ws://127.0.0.1:${port}/api/v1/users/ws`,
    get accepted() {
      return accepted;
    },
    async stop() {
      sockets.forEach((s) => s.destroy());
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

module.exports = { startHostileServer, startStallingServer };
