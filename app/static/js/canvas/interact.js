// Pointer work on the canvas: select and move cards, draw links from output ports (refusing
// bad ones while dragging, with a tooltip saying why), pan the background, rubber-band select,
// and drag blocks in from the palette (onto empty space, or onto a link to insert them).

import { NODE_H, NODE_W, portPosition } from "./state.js";
import { t } from "../i18n.js";

const CLICK_SLOP = 4;

export class Interactions {
  constructor({ store, renderer, viewport, canvas, palette, tip, box, menus, onOpen }) {
    Object.assign(this, { store, renderer, viewport, canvas, palette, tip, box, menus, onOpen });
    this.drag = null;
    canvas.addEventListener("pointerdown", (event) => this.down(event));
    canvas.addEventListener("pointermove", (event) => this.move(event));
    canvas.addEventListener("pointerup", (event) => this.up(event));
    canvas.addEventListener("pointercancel", () => this.cancel());
    canvas.addEventListener("click", (event) => this.click(event));
    canvas.addEventListener("dblclick", (event) => {
      const card = event.target.closest(".node[data-id]");
      if (card) this.onOpen(card.dataset.id, { focus: true });
    });
    palette.addEventListener("pointerdown", (event) => this.paletteDown(event));
    palette.addEventListener("pointermove", (event) => this.move(event));
    palette.addEventListener("pointerup", (event) => this.up(event));
  }

  // --- canvas -------------------------------------------------------------------------------
  down(event) {
    if (event.button !== 0 || this.drag) return;
    const target = event.target;
    if (target.closest("button, .edge-tools, input, select, textarea, a")) return;
    const start = { x: event.clientX, y: event.clientY };
    const port = target.closest(".port-out");
    const card = target.closest(".node[data-id]");
    const link = target.closest("g.link");
    this.canvas.setPointerCapture(event.pointerId);
    if (port && card) {
      this.drag = { mode: "wire", start, from: card.dataset.id, port: port.dataset.port, moved: false };
      const taken = this.store.edgeFrom(card.dataset.id, port.dataset.port);
      this.drag.refusal = taken
        ? t("This output already leads to a block. Remove that link first (click it, then Delete).")
        : null;
    } else if (card) {
      const id = card.dataset.id;
      const additive = event.shiftKey || event.ctrlKey || event.metaKey;
      if (additive) this.store.toggle(id);
      else if (!this.store.selection.has(id)) this.store.select([id]);
      const ids = [...this.store.selection];
      const origin = new Map(ids.map((i) => [i, { x: this.store.node(i).x, y: this.store.node(i).y }]));
      this.drag = { mode: "move", start, id, origin, moved: false, additive };
    } else if (link) {
      this.store.selectEdge(link.dataset.key);
      this.drag = { mode: "none", start };
    } else if (event.shiftKey) {
      this.drag = { mode: "box", start, moved: false };
    } else {
      this.drag = { mode: "pan", start, last: start, moved: false };
      this.canvas.classList.add("panning");
    }
    event.preventDefault();
    this.canvas.focus({ preventScroll: true });
  }

  move(event) {
    const drag = this.drag;
    if (!drag) return;
    const dx = event.clientX - drag.start.x;
    const dy = event.clientY - drag.start.y;
    if (!drag.moved && Math.hypot(dx, dy) < CLICK_SLOP) return;
    // A published version: the background pans, and a block pressed stays a click (selected).
    if (this.store.readOnly && drag.mode !== "pan") return;
    const first = !drag.moved;
    drag.moved = true;
    if (drag.mode === "move") {
      if (first) this.store.begin();
      const z = this.viewport.z;
      for (const [id, o] of drag.origin) {
        const node = this.store.node(id);
        if (node) {
          node.x = o.x + dx / z;
          node.y = o.y + dy / z;
        }
      }
      this.store.transient();
    } else if (drag.mode === "pan") {
      this.viewport.panBy(event.clientX - drag.last.x, event.clientY - drag.last.y);
      drag.last = { x: event.clientX, y: event.clientY };
    } else if (drag.mode === "wire") {
      this.wireMove(event);
    } else if (drag.mode === "box") {
      this.boxMove(event);
    } else if (drag.mode === "palette") {
      this.paletteMove(event, first);
    }
  }

  up(event) {
    const drag = this.drag;
    if (!drag) return;
    this.drag = null;
    this.canvas.classList.remove("panning");
    if (drag.mode === "move") {
      if (drag.moved) {
        for (const id of drag.origin.keys()) {
          const node = this.store.node(id);
          if (node) {
            node.x = Math.round(node.x);
            node.y = Math.round(node.y);
          }
        }
        this.store.end("move");
      } else if (!drag.additive) {
        this.store.select([drag.id]);
        this.onOpen(drag.id, { focus: false });
      }
    } else if (drag.mode === "pan" && !drag.moved) {
      this.store.clearSelection();
    } else if (drag.mode === "wire") {
      this.wireUp(event, drag);
    } else if (drag.mode === "box") {
      this.box.hidden = true;
      if (drag.moved) this.store.select(this.boxed(drag.start, event), { add: true });
    } else if (drag.mode === "palette") {
      this.paletteUp(event, drag);
    }
  }

  cancel() {
    if (this.drag?.mode === "move" && this.drag.moved) this.store.end("move");
    this.drag = null;
    this.renderer.hidePreview();
    this.hideTip();
    this.ghost?.remove();
    this.ghost = null;
  }

  click(event) {
    const add = event.target.closest(".port-add");
    if (add) {
      const card = add.closest(".node[data-id]");
      this.menus.addAfter(card.dataset.id, add.dataset.port, add);
      return;
    }
    const menu = event.target.closest(".node-menu-button");
    if (menu) {
      const card = menu.closest(".node[data-id]");
      this.store.select([card.dataset.id]);
      this.menus.nodeMenu(card.dataset.id, menu);
    }
  }

  // --- links ----------------------------------------------------------------------------------
  wireMove(event) {
    const { from, port } = this.drag;
    const source = this.store.node(from);
    const a = portPosition(source, port, this.store.ports(source));
    const b = this.viewport.toCanvas(event.clientX, event.clientY);
    this.renderer.showPreview(a, b);
    let target = this.renderer.cardAt(event.clientX, event.clientY);
    // Leaving the port over its own card is not yet aiming at it; coming back to it is.
    const away = Math.hypot(event.clientX - this.drag.start.x, event.clientY - this.drag.start.y) > 40;
    if (target === from && !away) target = null;
    this.markTarget(target);
    const reason = this.drag.refusal || (target ? this.store.whyNot(from, port, target) : null);
    this.drag.target = target;
    this.drag.reason = reason;
    if (reason) this.showTip(reason, event, true);
    else if (target) this.showTip(t("Release to link these blocks"), event, false);
    else this.hideTip();
    this.renderer.preview.classList.toggle("refused", Boolean(reason));
  }

  wireUp(event, drag) {
    this.renderer.hidePreview();
    this.markTarget(null);
    if (!drag.moved) {
      this.hideTip();
      return;
    }
    if (drag.reason) {
      this.showTip(drag.reason, event, true);
      clearTimeout(this.tipTimer);
      this.tipTimer = setTimeout(() => this.hideTip(), 2500);
      return;
    }
    this.hideTip();
    if (drag.target) this.store.connect(drag.from, drag.port, drag.target);
  }

  markTarget(id) {
    for (const el of this.canvas.querySelectorAll(".node.drop-ok, .node.drop-refused")) {
      el.classList.remove("drop-ok", "drop-refused");
    }
    if (!id || !this.drag) return;
    const reason = this.drag.refusal || this.store.whyNot(this.drag.from, this.drag.port, id);
    this.renderer.card(id)?.classList.add(reason ? "drop-refused" : "drop-ok");
  }

  showTip(text, event, refused) {
    const rect = this.canvas.getBoundingClientRect();
    this.tip.textContent = text;
    this.tip.hidden = false;
    this.tip.classList.toggle("refused", refused);
    this.tip.style.left = `${event.clientX - rect.left + 14}px`;
    this.tip.style.top = `${event.clientY - rect.top + 16}px`;
  }

  hideTip() {
    this.tip.hidden = true;
  }

  // --- rubber band ----------------------------------------------------------------------------
  boxMove(event) {
    const rect = this.canvas.getBoundingClientRect();
    const { start } = this.drag;
    Object.assign(this.box.style, {
      left: `${Math.min(start.x, event.clientX) - rect.left}px`,
      top: `${Math.min(start.y, event.clientY) - rect.top}px`,
      width: `${Math.abs(event.clientX - start.x)}px`,
      height: `${Math.abs(event.clientY - start.y)}px`,
    });
    this.box.hidden = false;
  }

  boxed(start, event) {
    const a = this.viewport.toCanvas(Math.min(start.x, event.clientX), Math.min(start.y, event.clientY));
    const b = this.viewport.toCanvas(Math.max(start.x, event.clientX), Math.max(start.y, event.clientY));
    return this.store.graph.nodes
      .filter((n) => n.x < b.x && n.x + NODE_W > a.x && n.y < b.y && n.y + NODE_H > a.y)
      .map((n) => n.id);
  }

  // --- palette --------------------------------------------------------------------------------
  paletteDown(event) {
    const item = event.target.closest(".palette-item");
    if (!item || event.button !== 0 || this.drag) return;
    item.setPointerCapture(event.pointerId);
    this.drag = { mode: "palette", item, start: { x: event.clientX, y: event.clientY }, moved: false };
  }

  entryOf(item) {
    const config = JSON.parse(item.dataset.config || "{}");
    const entries = this.menus.palette.filter((p) => p.type === item.dataset.type && p.kind === item.dataset.kind);
    return entries.find((p) => JSON.stringify(p.config) === JSON.stringify(config)) || entries[0];
  }

  overCanvas(event) {
    const rect = this.canvas.getBoundingClientRect();
    return event.clientX >= rect.left && event.clientX <= rect.right && event.clientY >= rect.top && event.clientY <= rect.bottom;
  }

  paletteMove(event, first) {
    if (first) {
      this.ghost = this.drag.item.cloneNode(true);
      this.ghost.className = "palette-ghost";
      this.ghost.removeAttribute("data-testid");
      document.body.appendChild(this.ghost);
    }
    this.ghost.style.left = `${event.clientX}px`;
    this.ghost.style.top = `${event.clientY}px`;
    const entry = this.entryOf(this.drag.item);
    const insertable = entry.type !== "trigger" && entry.ports.length > 0;
    const point = this.viewport.toCanvas(event.clientX, event.clientY);
    const key = this.overCanvas(event) && insertable ? this.renderer.linkNear(point, 18 / this.viewport.z) : null;
    this.drag.link = key;
    this.renderer.highlightLink(key);
    this.ghost.classList.toggle("on-link", Boolean(key));
  }

  paletteUp(event, drag) {
    this.ghost?.remove();
    this.ghost = null;
    this.renderer.highlightLink(null);
    const entry = this.entryOf(drag.item);
    if (!drag.moved) {
      this.menus.addFromPalette(entry);
      return;
    }
    if (!this.overCanvas(event)) return;
    const point = this.viewport.toCanvas(event.clientX, event.clientY);
    const x = point.x - NODE_W / 2;
    const y = point.y - NODE_H / 2;
    const node = drag.link ? this.store.insertOnEdge(entry, drag.link, x, y) : this.store.addNode(entry, x, y);
    if (node) this.onOpen(node.id, { focus: false });
  }
}
