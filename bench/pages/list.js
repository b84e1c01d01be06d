// Baselines for the client benchmark (bench/client.mjs): the same v1
// snapshot, changes and row markup as Roster's list, in plain JavaScript.
// list.html?windowed windows the list exactly as Roster does
// (src/components/user_list.rs: 56 px rows, 8 rows of overscan, the window
// height as the view, the top row as the scroll anchor) and has a filter
// box as a plain page would write it (lower-case and search every user);
// plain list.html puts every row in the DOM.
const ROW_HEIGHT_PX = 56;
const OVERSCAN_ROWS = 8;
const windowed = new URLSearchParams(location.search).has('windowed');

const users = [];
const positionOf = new Map();
const list = document.querySelector('[data-testid=user-list]');
const scroller = document.querySelector('[data-testid=user-list-scroller]');
const count = document.querySelector('[data-testid=user-count]');
const filterBox = document.querySelector('[data-testid=filter]');
/** The users shown: all of them, or the filter's matches. */
let shown = users;
let filterText = '';

function matches(user) {
  return user.name.toLowerCase().includes(filterText) || user.email.toLowerCase().includes(filterText);
}

function refilter() {
  shown = filterText ? users.filter(matches) : users;
}

function initials(name) {
  return name.split(/\s+/).filter(Boolean).slice(0, 2).map((w) => w[0].toUpperCase()).join('');
}

function rowFor(user, position) {
  const li = document.createElement('li');
  li.className = 'user-row';
  li.dataset.testid = 'user-row';
  li.dataset.userId = user.id;
  li.setAttribute('aria-posinset', String(position + 1));
  li.setAttribute('aria-setsize', String(shown.length));
  li.style.height = `${ROW_HEIGHT_PX}px`;
  const parts = [
    ['user-avatar', initials(user.name)],
    ['user-name', user.name],
    ['user-email', user.email],
    ['user-id', `#${user.id}`],
  ];
  for (const [className, text] of parts) {
    const span = document.createElement('span');
    span.className = className;
    span.textContent = text;
    li.append(span);
  }
  return li;
}

function reindex(from) {
  for (let i = from; i < users.length; i++) positionOf.set(users[i].id, i);
}

// --- the non-windowed list: every row, edited in place ----------------------
function renderAll() {
  const fragment = document.createDocumentFragment();
  users.forEach((user, i) => fragment.append(rowFor(user, i)));
  list.replaceChildren(fragment);
}

// --- the windowed list --------------------------------------------------------
let anchor = null;
let drawn = '';
let windowEnd = 0;

function renderWindow() {
  const top = scroller.scrollTop;
  const first = Math.max(0, Math.floor(top / ROW_HEIGHT_PX) - OVERSCAN_ROWS);
  const end = Math.min(shown.length, Math.ceil((top + window.innerHeight) / ROW_HEIGHT_PX) + OVERSCAN_ROWS);
  list.style.height = `${shown.length * ROW_HEIGHT_PX}px`;
  list.style.paddingTop = `${first * ROW_HEIGHT_PX}px`;
  windowEnd = end;
  const key = `${first}:${end}`;
  if (key === drawn) return;
  drawn = key;
  const fragment = document.createDocumentFragment();
  for (let i = first; i < end; i++) fragment.append(rowFor(shown[i], i));
  list.replaceChildren(fragment);
}

function setAnchor() {
  const top = scroller.scrollTop;
  const position = Math.floor(top / ROW_HEIGHT_PX);
  anchor = top > 0 && shown[position] ? [shown[position].id, top - position * ROW_HEIGHT_PX] : null;
}

function keepAnchor() {
  if (!anchor || filterText) return;
  const position = positionOf.get(anchor[0]);
  if (position === undefined) return setAnchor();
  const top = position * ROW_HEIGHT_PX + anchor[1];
  if (Math.abs(top - scroller.scrollTop) >= 0.5) scroller.scrollTop = top;
}

if (windowed) {
  scroller.addEventListener('scroll', () => {
    setAnchor();
    renderWindow();
  });
  filterBox.addEventListener('input', () => {
    filterText = filterBox.value.trim().toLowerCase();
    refilter();
    scroller.scrollTop = 0;
    anchor = null;
    drawn = '';
    renderWindow();
  });
} else {
  filterBox.remove();
}

// --- applying the protocol ------------------------------------------------------
let version = null;

function showCount() {
  count.textContent = String(users.length);
  if (windowed) {
    for (const row of list.children) row.setAttribute('aria-setsize', String(users.length));
  }
}

function apply(change) {
  if (version === null || change.version !== version + 1) return;
  version = change.version;
  const at = positionOf.get(change.user.id);
  if (change.op === 'added' && at === undefined) {
    positionOf.set(change.user.id, users.length);
    users.push(change.user);
    if (!windowed) list.append(rowFor(change.user, users.length - 1));
  } else if (change.op === 'added') {
    users[at] = change.user;
    if (!windowed) list.children[at].replaceWith(rowFor(change.user, at));
  } else if (at !== undefined) {
    users.splice(at, 1);
    positionOf.delete(change.user.id);
    reindex(at);
    if (!windowed) list.children[at].remove();
  }
  if (windowed && filterText) {
    // Filtered: the simple way, the whole filter again.
    refilter();
    drawn = '';
    renderWindow();
  } else if (windowed) {
    // As Roster's keyed rows: only a change inside the rendered window
    // (or above it, which moves it) redraws rows; any other only resizes.
    if (at !== undefined || users.length - 1 < windowEnd) drawn = '';
    keepAnchor();
    renderWindow();
  }
  showCount();
}

const server = new URLSearchParams(location.search).get('server')
  || `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/v1/users/ws`;
const socket = new WebSocket(server, 'roster.v1');
socket.onopen = () => socket.send('{"type":"hello"}');
socket.onmessage = (event) => {
  const message = JSON.parse(event.data);
  if (message.type === 'snapshot') {
    version = message.version;
    users.length = 0;
    positionOf.clear();
    users.push(...message.users);
    reindex(0);
    refilter();
    if (windowed) {
      drawn = '';
      renderWindow();
    } else {
      renderAll();
    }
    showCount();
  } else if (message.type === 'change') {
    apply(message);
  }
};
