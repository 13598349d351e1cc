// Keyboard shortcuts. They never fire while typing in a field, so Delete in a text box
// deletes text, not blocks.

const STEP = 10;

function typing(target) {
  return Boolean(target.closest?.("input, textarea, select, [contenteditable]:not([contenteditable=false])"));
}

function outside(el, canvas) {
  const a = el.getBoundingClientRect();
  const b = canvas.getBoundingClientRect();
  return a.right < b.left || a.left > b.right || a.bottom < b.top || a.top > b.bottom;
}

export function bindKeys({ store, viewport, actions, menus, panel }) {
  document.addEventListener("keydown", (event) => {
    if (typing(event.target) || !menus.menu.hidden) return;
    const ctrl = event.ctrlKey || event.metaKey;
    const key = event.key.toLowerCase();
    let handled = true;
    if (ctrl && key === "z" && !event.shiftKey) store.undo();
    else if (ctrl && ((key === "z" && event.shiftKey) || key === "y")) store.redo();
    else if (ctrl && key === "s") actions.save();
    else if (ctrl && key === "d") store.duplicateSelected();
    else if (ctrl && key === "a") store.select(store.graph.nodes.map((n) => n.id));
    else if (ctrl) handled = false;
    else if (key === "delete" || key === "backspace") store.removeSelected();
    else if (key === "escape") {
      store.clearSelection();
      panel.closeSettings();
      actions.closeIssues();
    } else if (key === "enter" && event.target.closest?.(".node[data-id]")) {
      const id = event.target.closest(".node[data-id]").dataset.id;
      store.select([id]);
      panel.show(id, { focus: true });
    } else if (key === "a" && store.selection.size === 1) {
      const id = [...store.selection][0];
      const node = store.node(id);
      const port = node && store.freePorts(node)[0];
      const card = document.querySelector(`.node[data-id="${CSS.escape(id)}"]`);
      if (port && card) menus.addAfter(id, port, card);
    } else if (key.startsWith("arrow")) {
      const step = event.shiftKey ? STEP * 5 : STEP;
      const dx = { arrowleft: -step, arrowright: step }[key] || 0;
      const dy = { arrowup: -step, arrowdown: step }[key] || 0;
      if (store.selection.size) {
        store.change(
          "move",
          () => {
            for (const id of store.selection) {
              const node = store.node(id);
              node.x += dx;
              node.y += dy;
            }
          },
          { merge: `move:${[...store.selection].join(",")}` },
        );
      } else {
        viewport.panBy(-dx * 4, -dy * 4);
      }
    } else if (key === "+" || key === "=") viewport.zoomAt(1.2);
    else if (key === "-") viewport.zoomAt(1 / 1.2);
    else if (key === "0") viewport.reset();
    else if (key === "f") actions.fit();
    else if (key === "t") actions.tidy();
    else handled = false;
    if (handled) event.preventDefault();
  });
  // Tabbing onto a block selects it, so the keys above act on what has the focus.
  document.addEventListener("focusin", (event) => {
    const card = event.target.closest?.(".node[data-id]");
    if (!card || event.target !== card) return;
    if (outside(card, viewport.canvas)) viewport.reveal(store.node(card.dataset.id));
    if (!store.selection.has(card.dataset.id)) store.select([card.dataset.id]);
  });
}
