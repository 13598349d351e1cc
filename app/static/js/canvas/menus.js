// Everything the mouse can do, without dragging: the "add the next block" menu (from a "+" on
// an output, a block's menu or a link), the block menu (link to…, duplicate, delete), and
// adding a palette block by click or Enter. Menus are lists of buttons, keyboard-driven.

import { NODE_H, NODE_W, edgeKey } from "./state.js";
import { pointOn } from "./render.js";
import { t } from "../i18n.js";

const GAP_X = 96;
const GAP_Y = 40;

export class Menus {
  constructor({ store, viewport, renderer, menu, palette, paletteEl, onOpen }) {
    Object.assign(this, { store, viewport, renderer, menu, palette, paletteEl, onOpen });
    this.anchor = null;
    document.addEventListener("pointerdown", (event) => {
      if (!this.menu.hidden && !this.menu.contains(event.target)) this.close(false);
    });
    menu.addEventListener("keydown", (event) => this.keydown(event));
    paletteEl.addEventListener("click", (event) => {
      const item = event.target.closest(".palette-item");
      // Pointer clicks are handled on pointerup (they may be drags); this is Enter / Space.
      if (item && event.detail === 0) this.addFromPalette(this.entryFor(item));
    });
  }

  entryFor(item) {
    const config = item.dataset.config || "{}";
    return (
      this.palette.find(
        (p) => p.type === item.dataset.type && p.kind === item.dataset.kind && JSON.stringify(p.config) === JSON.stringify(JSON.parse(config)),
      ) || this.palette.find((p) => p.type === item.dataset.type && p.kind === item.dataset.kind)
    );
  }

  iconFor(entry) {
    const item = this.paletteEl.querySelector(`.palette-item[data-type="${entry.type}"][data-kind="${entry.kind}"] .node-icon`);
    return item ? item.innerHTML : "";
  }

  // --- the menu itself ------------------------------------------------------------------------
  open(anchor, title, items) {
    if (this.store.readOnly) return; // every item would change the graph
    this.anchor = anchor;
    const groups = [];
    for (const item of items) {
      let group = groups.find((g) => g.name === (item.group || ""));
      if (!group) groups.push((group = { name: item.group || "", items: [] }));
      group.items.push(item);
    }
    this.menu.innerHTML = "";
    const head = document.createElement("p");
    head.className = "menu-title";
    head.textContent = title;
    this.menu.appendChild(head);
    for (const group of groups) {
      if (group.name) {
        const label = document.createElement("p");
        label.className = "menu-group";
        label.textContent = group.name;
        this.menu.appendChild(label);
      }
      for (const item of group.items) {
        const button = document.createElement("button");
        button.type = "button";
        button.setAttribute("role", "menuitem");
        button.className = `menu-item${item.danger ? " danger" : ""}`;
        if (item.testid) button.dataset.testid = item.testid;
        button.innerHTML = `<span class="menu-icon tone-${item.tone || "none"}">${item.icon || ""}</span><span class="menu-text"></span>`;
        button.querySelector(".menu-text").textContent = item.label;
        if (item.hint) {
          const hint = document.createElement("span");
          hint.className = "menu-hint";
          hint.textContent = item.hint;
          button.querySelector(".menu-text").appendChild(hint);
        }
        button.disabled = Boolean(item.disabled);
        button.addEventListener("click", () => {
          this.close(false);
          item.run();
        });
        this.menu.appendChild(button);
      }
    }
    if (!items.length) {
      const none = document.createElement("p");
      none.className = "menu-empty";
      none.textContent = t("Nothing to choose here.");
      this.menu.appendChild(none);
    }
    this.menu.hidden = false;
    const rect = anchor.getBoundingClientRect();
    const width = this.menu.offsetWidth;
    const height = this.menu.offsetHeight;
    const left = Math.min(window.innerWidth - width - 8, rect.right + 6);
    const top = Math.max(8, Math.min(window.innerHeight - height - 8, rect.top - 8));
    this.menu.style.left = `${Math.max(8, left)}px`;
    this.menu.style.top = `${top}px`;
    this.menu.querySelector(".menu-item:not(:disabled)")?.focus();
  }

  close(restoreFocus = true) {
    if (this.menu.hidden) return;
    this.menu.hidden = true;
    if (restoreFocus && this.anchor?.isConnected) this.anchor.focus();
  }

  keydown(event) {
    const items = [...this.menu.querySelectorAll(".menu-item:not(:disabled)")];
    const index = items.indexOf(document.activeElement);
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : -1;
      items[(index + step + items.length) % items.length]?.focus();
    } else if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      this.close();
    }
  }

  // --- placing new blocks ------------------------------------------------------------------------
  freeSpot(x, y) {
    const overlaps = (px, py) =>
      this.store.graph.nodes.some((n) => Math.abs(n.x - px) < NODE_W + 20 && Math.abs(n.y - py) < NODE_H + 16);
    let spotY = y;
    for (let i = 0; i < 50 && overlaps(x, spotY); i += 1) spotY += NODE_H + GAP_Y;
    return { x: Math.round(x), y: Math.round(spotY) };
  }

  blockItems(run, { triggers = false, needsPorts = false } = {}) {
    return this.palette
      .filter((p) => (triggers || p.type !== "trigger") && (!needsPorts || p.ports.length))
      .map((entry) => ({
        label: entry.name,
        group: entry.family,
        tone: entry.type,
        icon: this.iconFor(entry),
        testid: `menu-${entry.type}-${entry.kind}${entry.type === "trigger" && entry.config.event ? `-${entry.config.event}` : ""}`,
        run: () => run(entry),
      }));
  }

  addAfter(id, port, anchor) {
    const source = this.store.node(id);
    if (!source) return;
    const ports = this.store.ports(source);
    const index = Math.max(0, ports.indexOf(port));
    const offset = ports.length > 1 ? (index === 0 ? -1 : 1) * (NODE_H / 2 + GAP_Y / 2) : 0;
    this.open(anchor, t("Add the next block"), this.blockItems((entry) => {
      const spot = this.freeSpot(source.x + NODE_W + GAP_X, source.y + offset);
      const node = this.store.addNode(entry, spot.x, spot.y, { id, port });
      this.onOpen(node.id, { focus: true });
    }));
  }

  addFromPalette(entry) {
    const selected = this.store.selection.size === 1 ? this.store.node([...this.store.selection][0]) : null;
    const port = selected && entry.type !== "trigger" ? this.store.freePorts(selected)[0] : null;
    let node;
    if (selected && port) {
      const ports = this.store.ports(selected);
      const offset = ports.length > 1 ? (ports.indexOf(port) === 0 ? -1 : 1) * (NODE_H / 2 + GAP_Y / 2) : 0;
      const spot = this.freeSpot(selected.x + NODE_W + GAP_X, selected.y + offset);
      node = this.store.addNode(entry, spot.x, spot.y, { id: selected.id, port });
    } else {
      const center = this.viewport.center();
      const spot = this.freeSpot(center.x - NODE_W / 2, center.y - NODE_H / 2);
      node = this.store.addNode(entry, spot.x, spot.y);
    }
    this.onOpen(node.id, { focus: true });
  }

  insertOnLink(key, anchor) {
    const edge = this.store.graph.edges.find((e) => edgeKey(e) === key);
    const ends = edge && this.renderer.ends(edge);
    if (!ends) return;
    const mid = pointOn(ends[0], ends[1], 0.5);
    this.open(anchor, t("Insert a block on this link"), this.blockItems((entry) => {
      const node = this.store.insertOnEdge(entry, key, mid.x - NODE_W / 2, mid.y - NODE_H / 2);
      if (node) this.onOpen(node.id, { focus: true });
    }, { needsPorts: true }));
  }

  nodeMenu(id, anchor) {
    const node = this.store.node(id);
    if (!node) return;
    const info = this.store.info(node);
    const next = t("Next step");
    const block = t("Block");
    const items = [{ label: t("Settings"), hint: t("Enter"), run: () => this.onOpen(id, { focus: true }) }];
    for (const port of this.store.freePorts(node)) {
      const add = { yes: t("Add after Yes…"), no: t("Add after No…") }[port] || t("Add after…");
      const link = { yes: t("Link Yes to…"), no: t("Link No to…") }[port] || t("Link to…");
      items.push({ label: add, run: () => this.addAfter(id, port, anchor), group: next });
      items.push({ label: link, run: () => this.connectMenu(id, port, anchor), group: next });
    }
    items.push({ label: t("Duplicate"), hint: "Ctrl+D", run: () => this.store.duplicateSelected(), group: block });
    items.push({ label: t("Delete"), hint: t("Del"), danger: true, run: () => this.store.removeSelected(), group: block });
    this.open(anchor, info ? info.name : block, items);
  }

  connectMenu(id, port, anchor) {
    const items = this.store.graph.nodes
      .filter((n) => n.id !== id && !this.store.whyNot(id, port, n.id))
      .map((n) => ({
        label: `${this.store.info(n)?.name || n.kind}`,
        hint: n._summary || n.id,
        tone: n.type,
        icon: this.iconFor(n),
        run: () => this.store.connect(id, port, n.id),
      }));
    this.open(anchor, t("Link to which block?"), items);
  }
}
