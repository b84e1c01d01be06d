// A dashboard page of another origin that loads Roster's module from a
// Roster server (`assets`), for the embedding specs. `body` is its HTML;
// `script` runs once the module is ready, with `mount` in scope.

/** The page's HTML. */
const hostPage = (body, assets, script = '') => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>A dashboard</title></head>
<body>
${body}
<script type="module">
  import init, { mount } from '${assets}/roster.js';
  const wasm = await init({ module_or_path: '${assets}/roster_bg.wasm' });
  window.__wasmMemory = wasm.memory;
  window.roster = { mount };
  ${script}
  window.rosterReady = true;
</script>
</body></html>`;

module.exports = { hostPage };
