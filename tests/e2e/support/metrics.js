// Reading a roster-server's /metrics (OpenMetrics text), one series at a time.

/** The value of one series at `origin`, e.g. `roster_connections{protocol="seed"}`. */
async function metricAt(origin, series) {
  const text = await (await fetch(`${origin}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  if (!line) throw new Error(`no ${series} in ${origin}/metrics`);
  return Number(line.slice(series.length + 1));
}

/** How many v1 sockets the server at `origin` has open. */
const v1Connections = (origin) => metricAt(origin, 'roster_connections{protocol="roster.v1"}');

module.exports = { metricAt, v1Connections };
