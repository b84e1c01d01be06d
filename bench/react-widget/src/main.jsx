// The cold-load benchmark's baseline widget: the live list as a React
// developer would write it with react-window, speaking Roster protocol v1
// to the same server as Roster's page, with the same row markup (so the
// benchmark waits for the same things) and the same 56 px rows.
import { useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { FixedSizeList } from 'react-window';

const ROW_HEIGHT_PX = 56;

const server = new URLSearchParams(location.search).get('server')
  || `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/v1/users/ws`;

function initials(name) {
  return name.split(/\s+/).filter(Boolean).slice(0, 2).map((word) => word[0].toUpperCase()).join('');
}

/** The list and its version, kept in step with the server. */
function useRoster() {
  const [state, setState] = useState({ users: [], version: null, connected: false });
  useEffect(() => {
    const socket = new WebSocket(server, 'roster.v1');
    socket.onopen = () => {
      socket.send('{"type":"hello"}');
      setState((s) => ({ ...s, connected: true }));
    };
    socket.onclose = () => setState((s) => ({ ...s, connected: false }));
    socket.onmessage = (event) => {
      const message = JSON.parse(event.data);
      if (message.type === 'snapshot') {
        setState((s) => ({ ...s, users: message.users, version: message.version }));
      } else if (message.type === 'change') {
        setState((s) => {
          if (s.version === null || message.version !== s.version + 1) return s;
          const others = s.users.filter((user) => user.id !== message.user.id);
          const users = message.op === 'added' ? [...others, message.user] : others;
          return { ...s, users, version: message.version };
        });
      }
    };
    return () => socket.close();
  }, []);
  return state;
}

function Row({ index, style, data }) {
  const user = data[index];
  return (
    <li className="user-row" data-testid="user-row" data-user-id={user.id} style={style}
      aria-posinset={index + 1} aria-setsize={data.length}>
      <span className="user-avatar">{initials(user.name)}</span>
      <span className="user-name">{user.name}</span>
      <span className="user-email">{user.email}</span>
      <span className="user-id">#{user.id}</span>
    </li>
  );
}

function App() {
  const { users, connected } = useRoster();
  return (
    <main className="roster">
      <section className="roster-toolbar">
        <p className="user-count"><span data-testid="user-count">{users.length}</span> users</p>
        <span data-testid="connection-status">{connected ? 'connected' : 'connecting'}</span>
      </section>
      <FixedSizeList
        className="user-list-scroller"
        innerElementType="ul"
        height={Math.round(window.innerHeight * 0.7)}
        itemCount={users.length}
        itemData={users}
        itemSize={ROW_HEIGHT_PX}
        width="100%"
      >
        {Row}
      </FixedSizeList>
    </main>
  );
}

createRoot(document.getElementById('root')).render(<App />);
