// The history checker of the fault tests, written once and used by every
// scenario (tests/e2e/faults/) and by its own tests
// (specs/history-checker.spec.js).
//
// A scenario records, from the wire of every page it drives:
//   - each operation a client started (an `add` or `remove` with its
//     request id) and every acknowledgement it got, success or error;
//   - every version each page was shown: snapshots (version and list) and
//     changes (version, op, user), in the order they arrived, over all the
//     page's sockets;
// and, at the end, the final list of every instance and of every page.
//
// `check()` then proves, or names what broke:
//   1. every acknowledged add's user is in the final list exactly once, as
//      it was acknowledged (same id, name and email);
//   2. no acknowledged remove's user is in it;
//   3. no user appears that nobody added: besides the users there before,
//      the list holds no more unacknowledged users than adds that were
//      sent and never acknowledged (each may land once, or not at all);
//   4. one request id never acknowledged as two different users;
//   5. every page saw versions in order: a change is the next version
//      after what the page holds (a repeat of one it applied is skipped,
//      a gap is an error), a snapshot never goes back to an older version
//      (a stale list) within one history (epoch);
//   6. no version means two different things: every page that saw version
//      v saw the same change, and every snapshot at v the same list;
//   7. every instance ends with the same list, and every page equal to it.

/** Parses a frame's JSON, or null (binary frames, garbage). */
function parse(payload) {
  try {
    return typeof payload === 'string' ? JSON.parse(payload) : null;
  } catch {
    return null;
  }
}

const userKey = (user) => `${user.id}|${user.name}|${user.email}`;

class History {
  constructor() {
    /** request id -> { page, kind, id?, acks: [{ user?, error? }] } */
    this.ops = new Map();
    /** page name -> [{ kind: 'snapshot'|'change', ... }] in arrival order */
    this.seen = new Map();
    /** Users there before the scenario started, by id. */
    this.before = new Map();
    /** instance name -> final list; page name -> final ids. */
    this.storeFinals = new Map();
    this.pageFinals = new Map();
  }

  /** The list as it was before any operation of the scenario. */
  baseline(users) {
    for (const user of users) this.before.set(String(user.id), user);
  }

  /** Records everything `page` sends and receives, on all its sockets, as `name`. */
  follow(page, name) {
    this.seen.set(name, []);
    page.on('websocket', (socket) => {
      socket.on('framesent', ({ payload }) => this.sent(name, parse(payload)));
      socket.on('framereceived', ({ payload }) => this.received(name, parse(payload)));
    });
  }

  /** One client frame of page `name` (also callable directly, for tests). */
  sent(name, message) {
    if (!message || (message.type !== 'add' && message.type !== 'remove')) return;
    if (!this.ops.has(message.request_id)) {
      this.ops.set(message.request_id, {
        page: name,
        kind: message.type,
        id: message.id === undefined ? undefined : String(message.id),
        acks: [],
      });
    }
  }

  /** One server frame to page `name` (also callable directly, for tests). */
  received(name, message) {
    if (!message) return;
    const seen = this.seen.get(name) ?? this.seen.set(name, []).get(name);
    switch (message.type) {
      case 'snapshot':
        seen.push({ kind: 'snapshot', epoch: message.epoch, version: message.version, users: message.users.map(userKey) });
        break;
      case 'change':
        seen.push({ kind: 'change', version: message.version, op: message.op, user: userKey(message.user) });
        break;
      case 'ack': {
        const op = this.ops.get(message.request_id);
        if (op) op.acks.push({ at: Date.now(), ...(message.user ? { user: message.user } : { error: message.error?.code ?? 'unknown' }) });
        break;
      }
      default:
    }
  }

  /** The final list of instance `name` (its `GET /api/v1/users`). */
  storeFinal(name, users) {
    this.storeFinals.set(name, users);
  }

  /** The final ids on page `name`, in order. */
  pageFinal(name, ids) {
    this.pageFinals.set(name, ids.map(String));
  }

  /**
   * The acks page `name` got between `from` and `to` (ms since the epoch):
   * `{ done, refused: { code: count } }`.
   */
  acksBetween(name, from, to = Date.now()) {
    const seen = { done: 0, refused: {} };
    for (const op of this.ops.values()) {
      if (op.page !== name) continue;
      for (const ack of op.acks) {
        if (ack.at < from || ack.at > to) continue;
        if (ack.user) seen.done += 1;
        else seen.refused[ack.error] = (seen.refused[ack.error] ?? 0) + 1;
      }
    }
    return seen;
  }

  /** What was recorded, in numbers, for a report row. */
  counts() {
    let acked = 0;
    let refused = 0;
    let unanswered = 0;
    for (const op of this.ops.values()) {
      if (op.acks.some((ack) => ack.user)) acked += 1;
      else if (op.acks.length) refused += 1;
      else unanswered += 1;
    }
    let versions = 0;
    for (const seen of this.seen.values()) versions += seen.length;
    return { operations: this.ops.size, acked, refused, unanswered, versions, pages: this.seen.size };
  }

  /** Every broken promise, in words; empty when the history holds. */
  check() {
    const problems = [];
    const finals = [...this.storeFinals.entries()];
    if (finals.length === 0) return ['no final list was recorded'];
    const [storeName, store] = finals[0];
    const storeKeys = store.map(userKey);
    const storeIds = store.map((user) => String(user.id));
    const times = new Map();
    for (const id of storeIds) times.set(id, (times.get(id) ?? 0) + 1);

    // 7. Every instance holds the same list.
    for (const [name, users] of finals.slice(1)) {
      const keys = users.map(userKey);
      if (keys.join(',') !== storeKeys.join(',')) {
        problems.push(`instance ${name} holds ${keys.length} users, not the ${storeKeys.length} of ${storeName}`);
      }
    }

    // 1, 2 and 4: acknowledged operations.
    const ackedIds = new Set();
    let unacknowledgedAdds = 0;
    for (const [request, op] of this.ops) {
      const users = op.acks.filter((ack) => ack.user).map((ack) => ack.user);
      const distinct = new Set(users.map(userKey));
      if (distinct.size > 1) problems.push(`request ${request} acknowledged as ${[...distinct].join(' and ')}`);
      if (op.kind === 'add') {
        if (users.length === 0) {
          unacknowledgedAdds += 1;
          continue;
        }
        const user = users[0];
        const id = String(user.id);
        ackedIds.add(id);
        const found = times.get(id) ?? 0;
        if (found !== 1) {
          problems.push(`acknowledged add ${request} (user ${id}) is in the final list ${found} times`);
        } else if (!storeKeys.includes(userKey(user))) {
          problems.push(`acknowledged add ${request} (user ${id}) is stored as another user: ${storeKeys.find((k) => k.startsWith(`${id}|`))}`);
        }
      } else if (users.length > 0 && times.has(op.id)) {
        problems.push(`acknowledged remove ${request} of user ${op.id}, who is still in the final list`);
      }
    }
    for (const [id, count] of times) {
      if (count > 1) problems.push(`user ${id} is in the final list ${count} times`);
    }

    // 3. Nobody's users.
    const unexplained = storeIds.filter((id) => !ackedIds.has(id) && !this.before.has(id));
    if (unexplained.length > unacknowledgedAdds) {
      problems.push(`${unexplained.length} users nobody was acknowledged for (${unexplained.slice(0, 5).join(', ')}…), ` +
        `but only ${unacknowledgedAdds} adds went unacknowledged`);
    }

    // 5 and 6: what the pages saw.
    const changeAt = new Map();
    const snapshotAt = new Map();
    for (const [name, seen] of this.seen) {
      let epoch;
      let at;
      for (const event of seen) {
        if (event.kind === 'snapshot') {
          const key = `${event.epoch}@${event.version}`;
          const list = event.users.join(',');
          if (snapshotAt.has(key) && snapshotAt.get(key) !== list) {
            problems.push(`two different lists were sent as version ${event.version}`);
          }
          snapshotAt.set(key, list);
          if (event.epoch === epoch && event.version < at) {
            problems.push(`page ${name} was sent a stale list: version ${event.version} after ${at}`);
          }
          epoch = event.epoch;
          at = event.version;
          continue;
        }
        const meaning = `${event.op} ${event.user}`;
        const key = `${epoch}@${event.version}`;
        if (changeAt.has(key) && changeAt.get(key) !== meaning) {
          problems.push(`version ${event.version} meant both "${changeAt.get(key)}" and "${meaning}"`);
        }
        changeAt.set(key, meaning);
        if (at === undefined) {
          problems.push(`page ${name} got change ${event.version} before any list`);
        } else if (event.version > at + 1) {
          problems.push(`page ${name} skipped from version ${at} to ${event.version}`);
        } else if (event.version === at + 1) {
          at = event.version;
        }
      }
    }

    // 7. Every page ends equal to the store.
    for (const [name, ids] of this.pageFinals) {
      if (ids.join(',') !== storeIds.join(',')) {
        const missing = storeIds.filter((id) => !ids.includes(id));
        const extra = ids.filter((id) => !times.has(id));
        problems.push(`page ${name} ends with ${ids.length} users, the store ${storeIds.length} ` +
          `(missing ${missing.slice(0, 5).join(', ') || 'none'}; extra ${extra.slice(0, 5).join(', ') || 'none'})`);
      }
    }
    return problems;
  }
}

module.exports = { History };
