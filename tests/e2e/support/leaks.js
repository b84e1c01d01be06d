// What a page holds that a leak would grow: listeners on the window, JS
// event listeners, DOM nodes (and those held out of the document), live
// timers, the JS heap and wasm's linear memory.
// Install TIMER_COUNTER with page.addInitScript before the page loads.

const TIMER_COUNTER = `
(() => {
  const live = new Set();
  const wrap = (set, clear, once) => {
    window[set] = ((orig) => function (fn, ms, ...rest) {
      const id = orig.call(window, typeof fn === 'function' && once ? (...a) => { live.delete(id); fn(...a); } : fn, ms, ...rest);
      live.add(id);
      return id;
    })(window[set]);
    window[clear] = ((orig) => function (id) { live.delete(id); return orig.call(window, id); })(window[clear]);
  };
  wrap('setTimeout', 'clearTimeout', true);
  wrap('setInterval', 'clearInterval', false);
  window.__liveTimers = () => live.size;
  // Trunk announces the instance (pages that load Roster themselves set
  // window.__wasmMemory); its linear memory only grows, so a leak on the
  // Rust side shows up as growth here.
  addEventListener('TrunkApplicationStarted', (e) => { window.__wasmMemory = e.detail.wasm.memory; });
})();
`;

/** The counts, after a garbage collection, through a CDP session. */
async function measureLeaks(cdp) {
  await cdp.send('HeapProfiler.collectGarbage');
  const { result } = await cdp.send('Runtime.evaluate', { expression: 'window' });
  const { listeners } = await cdp.send('DOMDebugger.getEventListeners', { objectId: result.objectId });
  const { jsEventListeners, nodes } = await cdp.send('Memory.getDOMCounters');
  const { usedSize } = await cdp.send('Runtime.getHeapUsage');
  const value = async (expression) => (await cdp.send('Runtime.evaluate', { expression, returnByValue: true })).result.value;
  const timers = await value('window.__liveTimers()');
  const wasmBytes = await value('window.__wasmMemory.buffer.byteLength');
  return {
    windowListeners: listeners.length, jsEventListeners, nodes, detachedNodes: await detachedNodes(cdp), timers, heapBytes: usedSize, wasmBytes,
  };
}

/**
 * How many nodes out of the document something still holds: what a leak of
 * DOM would grow, told apart from Blink's node counter, which also counts
 * nodes that are merely not collected yet.
 */
async function detachedNodes(cdp) {
  await cdp.send('DOM.enable');
  const { detachedNodes: roots } = await cdp.send('DOM.getDetachedDomNodes');
  await cdp.send('DOM.disable');
  // Attributes are left out: Blink makes an attribute a node only when a
  // script asks for it as one (as DevTools and Playwright do), and it then
  // lives as long as its element, which is already counted.
  const ATTRIBUTE_NODE = 2;
  return new Set(roots.filter((root) => root.treeNode.nodeType !== ATTRIBUTE_NODE)
    .flatMap((root) => root.retainedNodeIds)).size;
}

module.exports = { TIMER_COUNTER, measureLeaks };
