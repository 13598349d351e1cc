// The canvas state: the graph document (DESIGN §3), the selection, and undo/redo.
// Every change goes through Store.change() (or begin()/end() for drags) so it can be undone
// and autosaved. Keys starting with "_" (the card's summary) never reach the server.

import { t } from "../i18n.js";

export const NODE_W = 216;
export const NODE_H = 104;
const HISTORY_LIMIT = 100;
const MERGE_MS = 2500;

export function edgePort(edge) {
  return edge.port || "out";
}

export function edgeKey(edge) {
  return `${edge.from}|${edgePort(edge)}|${edge.to}`;
}

export function edgeTestId(edge) {
  return `edge-${edge.from}-${edgePort(edge)}-${edge.to}`;
}

// Where a port sits on its card, in canvas coordinates (see .port-* in app.css).
export function portPosition(node, port, ports) {
  if (port === "in") return { x: node.x, y: node.y + NODE_H / 2 };
  if (ports.length > 1) {
    const index = Math.max(0, ports.indexOf(port));
    // Two ports sit at 38 and 74 (.port-n2-*); more are spread evenly (.port-n3-* … n5).
    const y = ports.length === 2 ? (index === 0 ? 38 : 74) : Math.round((NODE_H * (index + 1)) / (ports.length + 1));
    return { x: node.x + NODE_W, y: node.y + y };
  }
  return { x: node.x + NODE_W, y: node.y + NODE_H / 2 };
}

export class Store extends EventTarget {
  constructor(graph, palette) {
    super();
    this.kinds = new Map();
    this.presets = palette.filter((entry) => Object.keys(entry.config).length);
    for (const entry of palette) {
      const key = `${entry.type}-${entry.kind}`;
      if (!this.kinds.has(key) || !Object.keys(entry.config).length) this.kinds.set(key, entry);
    }
    this.graph = {
      ...graph,
      schema: graph.schema ?? 1,
      nodes: (graph.nodes || []).filter((n) => n && typeof n === "object"),
      edges: (graph.edges || []).filter((e) => e && typeof e === "object"),
      settings: graph.settings ?? {},
    };
    this.selection = new Set();
    this.selectedEdge = null;
    this.issues = [];
    this.undoStack = [];
    this.redoStack = [];
    this.pending = null;
    this.lastMerge = { key: null, at: 0 };
    this.readOnly = false; // a published version (readonly.js): every change is refused
  }

  // --- reading -------------------------------------------------------------------------
  node(id) {
    return this.graph.nodes.find((n) => n.id === id);
  }

  info(node) {
    return this.kinds.get(`${node.type}-${node.kind}`);
  }

  // The card's title: a preset's name when the settings match it ("When someone buys").
  shownAs(node) {
    const config = node.config || {};
    const preset = this.presets.find(
      (p) => p.type === node.type && p.kind === node.kind && Object.entries(p.config).every(([k, v]) => config[k] === v),
    );
    return preset || this.info(node);
  }

  ports(node) {
    return this.portLabels(node).map(([port]) => port);
  }

  // [[port, label]]: a kind's own, or — a split — one per branch its settings list.
  portLabels(node) {
    const info = this.info(node);
    if (!info) return [["out", "out"]];
    if (!info.portsFrom) return info.ports.map((port) => [port, port]);
    const items = (node.config || {})[info.portsFrom];
    const found = new Map();
    for (const item of Array.isArray(items) ? items : []) {
      const port = item && typeof item.port === "string" ? item.port : "";
      const label = typeof item?.label === "string" && item.label.trim() ? item.label.trim() : port;
      if (port && !found.has(port)) found.set(port, label);
    }
    for (const [port, label] of info.fixedPorts || []) if (!found.has(port)) found.set(port, label);
    return [...found];
  }

  takesInput(node) {
    return node.type !== "trigger";
  }

  edgeFrom(id, port) {
    return this.graph.edges.find((e) => e.from === id && edgePort(e) === port);
  }

  freePorts(node) {
    return this.ports(node).filter((port) => !this.edgeFrom(node.id, port));
  }

  // True when `to` can already reach `from`: a link from→to would close a loop.
  reaches(start, goal) {
    const seen = new Set();
    const stack = [start];
    while (stack.length) {
      const id = stack.pop();
      if (id === goal) return true;
      if (seen.has(id)) continue;
      seen.add(id);
      for (const e of this.graph.edges) if (e.from === id) stack.push(e.to);
    }
    return false;
  }

  // Why a link cannot be drawn, in plain words, or null when it can.
  whyNot(fromId, port, toId) {
    const source = this.node(fromId);
    const target = this.node(toId);
    if (!source || !target) return t("Drop the link on a block.");
    if (fromId === toId) return t("A block can't lead to itself.");
    if (!this.takesInput(target)) return t("A trigger starts the journey: nothing can lead into it.");
    const existing = this.edgeFrom(fromId, port);
    if (existing && existing.to !== toId) {
      return t("This output already leads to a block. Remove that link first (click it, then Delete).");
    }
    if (existing) return t("These two blocks are already linked.");
    if (this.reaches(toId, fromId)) return t("That would make a loop: contacts would go round forever.");
    return null;
  }

  newId(kind) {
    const taken = new Set(this.graph.nodes.map((n) => n.id));
    let n = 1;
    while (taken.has(`${kind}_${n}`)) n += 1;
    return `${kind}_${n}`;
  }

  // The document as saved: the graph without the canvas's own "_" keys.
  toDocument() {
    return JSON.parse(
      JSON.stringify(this.graph, (key, value) => (key.startsWith("_") ? undefined : value)),
    );
  }

  // --- history ---------------------------------------------------------------------------
  snapshot() {
    return structuredClone({ nodes: this.graph.nodes, edges: this.graph.edges, settings: this.graph.settings });
  }

  restore(snap) {
    Object.assign(this.graph, structuredClone(snap));
    const ids = new Set(this.graph.nodes.map((n) => n.id));
    this.selection = new Set([...this.selection].filter((id) => ids.has(id)));
    this.selectedEdge = null;
  }

  push(snap, merge) {
    const now = Date.now();
    const merging = merge && this.lastMerge.key === merge && now - this.lastMerge.at < MERGE_MS;
    if (!merging) {
      this.undoStack.push(snap);
      if (this.undoStack.length > HISTORY_LIMIT) this.undoStack.shift();
    }
    this.lastMerge = { key: merge || null, at: now };
    this.redoStack = [];
  }

  emit(detail) {
    this.dispatchEvent(new CustomEvent("change", { detail }));
  }

  // Apply `mutate(graph)` as one undoable step; `merge` folds quick repeats (typing) into one.
  // `label` is a key ("move", "add-block") for the listeners, never shown.
  change(label, mutate, { merge = null } = {}) {
    if (this.readOnly) return null;
    const before = this.snapshot();
    const result = mutate(this.graph);
    this.push(before, merge);
    this.emit({ label, persist: true });
    return result;
  }

  // A drag: begin() before the first move, moveTransient() while moving, end() on release.
  begin() {
    if (this.readOnly) return;
    this.pending = this.snapshot();
  }

  end(label) {
    const before = this.pending;
    this.pending = null;
    if (!before || JSON.stringify(before) === JSON.stringify(this.snapshot())) return false;
    this.push(before, null);
    this.emit({ label, persist: true });
    return true;
  }

  transient() {
    this.emit({ label: "drag", persist: false });
  }

  undo() {
    if (this.readOnly || !this.undoStack.length) return;
    this.redoStack.push(this.snapshot());
    this.restore(this.undoStack.pop());
    this.lastMerge = { key: null, at: 0 };
    this.emit({ label: "undo", persist: true });
  }

  redo() {
    if (this.readOnly || !this.redoStack.length) return;
    this.undoStack.push(this.snapshot());
    this.restore(this.redoStack.pop());
    this.lastMerge = { key: null, at: 0 };
    this.emit({ label: "redo", persist: true });
  }

  // --- selection (not undoable, not saved) -----------------------------------------------
  select(ids, { add = false } = {}) {
    if (!add) this.selection.clear();
    for (const id of ids) this.selection.add(id);
    this.selectedEdge = null;
    this.emit({ label: "select", persist: false, selection: true });
  }

  toggle(id) {
    if (this.selection.has(id)) this.selection.delete(id);
    else this.selection.add(id);
    this.selectedEdge = null;
    this.emit({ label: "select", persist: false, selection: true });
  }

  selectEdge(key) {
    this.selection.clear();
    this.selectedEdge = key;
    this.emit({ label: "select", persist: false, selection: true });
  }

  clearSelection() {
    if (!this.selection.size && !this.selectedEdge) return;
    this.selection.clear();
    this.selectedEdge = null;
    this.emit({ label: "select", persist: false, selection: true });
  }

  setIssues(issues) {
    this.issues = issues || [];
    this.emit({ label: "issues", persist: false, issues: true });
  }

  // --- edits -------------------------------------------------------------------------------
  makeNode(entry, x, y) {
    const node = {
      id: this.newId(entry.kind),
      type: entry.type,
      kind: entry.kind,
      config: structuredClone(entry.config || {}),
      x: Math.round(x),
      y: Math.round(y),
    };
    node._summary = entry.summary;
    return node;
  }

  static link(from, port, to) {
    return port === "out" ? { from, to } : { from, port, to };
  }

  addNode(entry, x, y, after = null) {
    return this.change("add-block", (g) => {
      const node = this.makeNode(entry, x, y);
      g.nodes.push(node);
      if (after && !this.edgeFrom(after.id, after.port) && this.takesInput(node)) {
        g.edges.push(Store.link(after.id, after.port, node.id));
      }
      this.selection = new Set([node.id]);
      return node;
    });
  }

  // Put a new block on an existing link: A → new → B.
  insertOnEdge(entry, key, x, y) {
    const edge = this.graph.edges.find((e) => edgeKey(e) === key);
    if (!edge) return null;
    return this.change("insert-block", (g) => {
      const node = this.makeNode(entry, x, y);
      g.nodes.push(node);
      g.edges = g.edges.filter((e) => e !== edge);
      g.edges.push(Store.link(edge.from, edgePort(edge), node.id));
      const out = entry.ports.includes("out") ? "out" : entry.ports[0];
      if (out) g.edges.push(Store.link(node.id, out, edge.to));
      this.selection = new Set([node.id]);
      return node;
    });
  }

  connect(fromId, port, toId) {
    const reason = this.whyNot(fromId, port, toId);
    if (reason) return reason;
    this.change("link-blocks", (g) => {
      g.edges.push(Store.link(fromId, port, toId));
    });
    return null;
  }

  removeSelected() {
    const ids = new Set(this.selection);
    const edge = this.selectedEdge;
    if (!ids.size && !edge) return;
    this.change(ids.size ? "delete-blocks" : "remove-link", (g) => {
      g.nodes = g.nodes.filter((n) => !ids.has(n.id));
      g.edges = g.edges.filter((e) => !ids.has(e.from) && !ids.has(e.to) && edgeKey(e) !== edge);
      this.selection.clear();
      this.selectedEdge = null;
    });
  }

  duplicateSelected() {
    const ids = [...this.selection];
    if (!ids.length) return;
    this.change("duplicate", (g) => {
      const copies = new Map();
      for (const id of ids) {
        const original = this.node(id);
        if (!original) continue;
        const copy = structuredClone(original);
        copy.id = this.newId(original.kind);
        copy.x = original.x + 40;
        copy.y = original.y + 40;
        copies.set(id, copy.id);
        g.nodes.push(copy);
      }
      for (const e of [...g.edges]) {
        if (copies.has(e.from) && copies.has(e.to)) {
          g.edges.push(Store.link(copies.get(e.from), edgePort(e), copies.get(e.to)));
        }
      }
      this.selection = new Set(copies.values());
    });
  }

  setSettings(settings) {
    this.change(
      "scenario-settings",
      (g) => {
        g.settings = settings;
      },
      { merge: "settings" },
    );
  }

  setConfig(id, config, summary) {
    this.change(
      "edit-settings",
      (graph) => {
        const node = this.node(id);
        if (!node) return;
        node.config = config;
        node._summary = summary;
        // A branch taken away takes its link with it.
        if (this.info(node)?.portsFrom) {
          const ports = this.ports(node);
          graph.edges = graph.edges.filter((e) => e.from !== id || ports.includes(edgePort(e)));
        }
      },
      { merge: `config:${id}` },
    );
  }
}
