// What a reader would call a broken layout, found from the boxes the
// browser laid out: in Roster's header, toolbar, filter and error view,
//   - a piece of text that overlaps a control or another piece of text
//     (text is measured by its own line boxes, not its element's box, and
//     only as much of it as the boxes that clip it let show);
//   - text cut off where the design does not say so with an ellipsis;
//   - anything reaching outside Roster's own box.
// Runs in the page: `await page.evaluate(layoutProblems, '<roster-users>
// selector or null')`, which returns the problems in words (none: []).

/* eslint-disable no-undef -- runs in the browser */
function layoutProblems(hostSelector) {
  const scope = hostSelector ? document.querySelector(hostSelector).shadowRoot : document;
  const roster = scope.querySelector('.roster');
  const outer = roster.getBoundingClientRect();
  const parts = [...scope.querySelectorAll('.roster-header, .roster-toolbar, .user-filter, .error-banner')];
  const visible = (element) => {
    const style = getComputedStyle(element);
    const box = element.getBoundingClientRect();
    return style.visibility !== 'hidden' && style.display !== 'none' && box.width > 0 && box.height > 0
      && !(style.position === 'absolute' && box.width <= 1 && box.height <= 1);
  };
  const name = (element) => {
    const id = element.dataset?.testid ? `[data-testid=${element.dataset.testid}]` : '';
    const cls = element.className && typeof element.className === 'string' ? `.${element.className.split(' ')[0]}` : '';
    return `${element.tagName.toLowerCase()}${id || cls}`;
  };
  const overlap = (a, b) => Math.min(a.right, b.right) - Math.max(a.left, b.left) > 1
    && Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 1;
  /** `box` cut to what `element`'s clipping ancestors (up to Roster) show. */
  const shown = (box, element) => {
    let { left, right, top, bottom } = box;
    for (let clip = element; clip && clip !== roster.parentElement; clip = clip.parentElement) {
      const style = getComputedStyle(clip);
      if (style.overflowX === 'visible' && style.overflowY === 'visible') continue;
      const edge = clip.getBoundingClientRect();
      left = Math.max(left, edge.left);
      right = Math.min(right, edge.right);
      top = Math.max(top, edge.top);
      bottom = Math.min(bottom, edge.bottom);
    }
    return right - left > 0 && bottom - top > 0 ? { left, right, top, bottom } : null;
  };

  // Every visible piece of text, by its line boxes, and every control.
  const texts = [];
  const controls = [];
  for (const part of parts) {
    if (!visible(part)) continue;
    const walker = document.createTreeWalker(part, NodeFilter.SHOW_TEXT | NodeFilter.SHOW_ELEMENT);
    for (let node = walker.currentNode; node; node = walker.nextNode()) {
      if (node.nodeType === Node.ELEMENT_NODE) {
        if (!visible(node)) continue;
        if (node.matches('button, input, .connection-dot, .read-only')) controls.push({ element: node, box: node.getBoundingClientRect() });
        continue;
      }
      if (!node.textContent.trim() || !visible(node.parentElement)) continue;
      const range = document.createRange();
      range.selectNodeContents(node);
      for (const line of range.getClientRects()) {
        const box = shown(line, node.parentElement);
        if (box) texts.push({ element: node.parentElement, text: node.textContent.trim(), box });
      }
    }
  }

  const problems = [];
  for (const [i, a] of texts.entries()) {
    for (const control of controls) {
      if (!control.element.contains(a.element) && overlap(a.box, control.box)) {
        problems.push(`"${a.text}" (${name(a.element)}) overlaps ${name(control.element)}`);
      }
    }
    for (const b of texts.slice(i + 1)) {
      if (a.element !== b.element && overlap(a.box, b.box)) {
        problems.push(`"${a.text}" (${name(a.element)}) overlaps "${b.text}" (${name(b.element)})`);
      }
    }
  }
  for (const [i, a] of controls.entries()) {
    for (const b of controls.slice(i + 1)) {
      if (!a.element.contains(b.element) && !b.element.contains(a.element) && overlap(a.box, b.box)) {
        problems.push(`${name(a.element)} overlaps ${name(b.element)}`);
      }
    }
  }
  // Cut off: text wider than the box that clips it, with no ellipsis.
  for (const { element, text } of texts) {
    for (let box = element; box && box !== roster; box = box.parentElement) {
      const style = getComputedStyle(box);
      if (style.overflowX === 'visible') continue;
      if (box.scrollWidth > box.clientWidth + 1 && style.textOverflow !== 'ellipsis') {
        problems.push(`"${text}" is cut off by ${name(box)} without an ellipsis`);
      }
      break;
    }
  }
  for (const { element, box } of [...texts, ...controls]) {
    if (box.left < outer.left - 1 || box.right > outer.right + 1) {
      problems.push(`${name(element)} reaches outside Roster (${Math.round(box.left)}–${Math.round(box.right)} of ${Math.round(outer.left)}–${Math.round(outer.right)})`);
    }
  }
  return [...new Set(problems)];
}

module.exports = { layoutProblems };
