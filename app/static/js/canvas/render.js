// Keeps the page in step with the state: one card per block (server-rendered at load, cloned
// from the server's <template>s afterwards), one SVG path per link, badges for issues.

import { edgeKey, edgePort, edgeTestId, portPosition } from "./state.js";
import { t } from "../i18n.js";
import "./split_panel.js"; // the split's panel rows: listeners on the document
import "./switch_panel.js"; // the switch's cases: listeners on the document

const SVG = "http://www.w3.org/2000/svg";
const OFFSET = 10000; // the SVG layer is a 20000px square centred on the origin (hit-testing)

export function linkPath(a, b) {
  const dx = Math.max(40, Math.abs(b.x - a.x) / 2);
  return `M ${a.x} ${a.y} C ${a.x + dx} ${a.y}, ${b.x - dx} ${b.y}, ${b.x} ${b.y}`;
}

// A point on the link’s curve, at in [0, 1] (for hit-testing drops and the link toolbar).
export function pointOn(a, b, at) {
  const dx = Math.max(40, Math.abs(b.x - a.x) / 2);
  const p = [a, { x: a.x + dx, y: a.y }, { x: b.x - dx, y: b.y }, b];
  const u = 1 - at;
  const w = [u * u * u, 3 * u * u * at, 3 * u * at * at, at * at * at];
  return { x: w.reduce((s, k, i) => s + k * p[i].x, 0), y: w.reduce((s, k, i) => s + k * p[i].y, 0) };
}

export class Renderer {
  constructor(store, root) {
    this.store = store;
    this.root = root;
    this.layer = root.querySelector(".viewport");
    this.svg = root.querySelector("svg.edges");
    this.edgeLayer = this.svg.querySelector(".edge-layer");
    this.preview = this.svg.querySelector(".wire-preview");
    this.empty = root.querySelector(".canvas-empty");
    this.cards = new Map();
    this.links = new Map();
    for (const el of this.layer.querySelectorAll(".node[data-id]")) this.cards.set(el.dataset.id, el);
    this.svg.setAttribute("viewBox", `${-OFFSET} ${-OFFSET} ${2 * OFFSET} ${2 * OFFSET}`);
    this.svg.insertAdjacentHTML(
      "afterbegin",
      `<defs>${["out", "yes", "no"]
        .map(
          (p) =>
            `<marker id="arrow-${p}" class="arrow-${p}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z"/></marker>`,
        )
        .join("")}</defs>`,
    );
    this.edgeTools = document.createElement("div");
    this.edgeTools.className = "edge-tools";
    this.edgeTools.hidden = true;
    this.edgeTools.innerHTML =
      '<button type="button" data-action="insert-on-edge"></button><button type="button" data-action="delete"></button>';
    const insert = this.edgeTools.querySelector('[data-action="insert-on-edge"]');
    insert.title = t("Insert a block here");
    insert.textContent = t("+ Insert");
    const remove = this.edgeTools.querySelector('[data-action="delete"]');
    remove.title = t("Remove this link (Delete)");
    remove.textContent = t("Remove link");
    this.layer.appendChild(this.edgeTools);
  }

  template(node) {
    return document.querySelector(`template[data-node-template="${node.type}-${node.kind}"]`);
  }

  createCard(node) {
    const template = this.template(node);
    let el;
    if (template) {
      el = template.content.firstElementChild.cloneNode(true);
    } else {
      el = document.createElement("div");
      el.className = "node node-unknown";
      el.innerHTML = '<div class="node-head"><span class="node-name"></span></div><p class="node-summary"></p>';
      el.querySelector(".node-name").textContent = t("Unknown block");
    }
    el.dataset.id = node.id;
    el.dataset.testid = `node-${node.id}`;
    el.dataset.type = node.type;
    el.dataset.kind = node.kind;
    for (const port of el.querySelectorAll(".port")) port.dataset.testid = `port-${node.id}-${port.dataset.port}`;
    const counters = el.querySelector(".block-counters");
    if (counters) counters.dataset.node = node.id;
    this.layer.appendChild(el);
    return el;
  }

  // A split's outputs follow its branches: one port per branch, with its label (as text).
  syncPorts(el, node) {
    const wanted = this.store.portLabels(node);
    const shown = [...el.querySelectorAll(".port-out")].map((p) => [p.dataset.port, p.dataset.label ?? ""]);
    if (JSON.stringify(wanted) === JSON.stringify(shown)) return;
    const model = this.template(node)?.content.querySelector(".port-out");
    if (!model) return;
    for (const old of el.querySelectorAll(".port-out")) old.remove();
    wanted.forEach(([port, label], index) => {
      const item = model.cloneNode(true);
      item.className = `port port-out port-${port} port-n${wanted.length}-${index + 1}`;
      item.dataset.port = port;
      item.dataset.label = label;
      item.dataset.testid = `port-${node.id}-${port}`;
      item.title = t("%(port)s: drag to the next block", { port: label });
      let text = item.querySelector(".port-label");
      if (!text && wanted.length > 1) {
        text = document.createElement("span");
        text.className = "port-label";
        item.prepend(text);
      }
      if (text) text.textContent = label;
      const add = item.querySelector(".port-add");
      add.dataset.port = port;
      add.setAttribute("aria-label", t("Add the next block after “%(port)s”", { port: label }));
      el.appendChild(item);
    });
  }

  render() {
    const { store } = this;
    const seen = new Set();
    const problems = this.problemsByNode();
    for (const node of store.graph.nodes) {
      seen.add(node.id);
      let el = this.cards.get(node.id);
      if (!el) {
        el = this.createCard(node);
        this.cards.set(node.id, el);
      }
      this.updateCard(el, node, problems.get(node.id));
    }
    for (const [id, el] of this.cards) {
      if (!seen.has(id)) {
        el.remove();
        this.cards.delete(id);
      }
    }
    this.renderLinks();
    this.empty.hidden = store.graph.nodes.length > 0;
  }

  updateCard(el, node, problems) {
    const left = `${Math.round(node.x)}px`;
    const top = `${Math.round(node.y)}px`;
    if (el.style.left !== left) el.style.left = left;
    if (el.style.top !== top) el.style.top = top;
    const look = this.store.shownAs(node);
    const title = el.querySelector(".node-name");
    if (look && title && title.textContent !== look.name) {
      title.textContent = look.name;
      const icon = document.querySelector(`.palette-item[data-testid="${look.testid}"] .node-icon`);
      if (icon) el.querySelector(".node-head .node-icon").innerHTML = icon.innerHTML;
    }
    const summary = node._summary ?? "";
    const text = el.querySelector(".node-summary");
    if (text && text.textContent !== summary && node._summary !== undefined) {
      text.textContent = summary;
      el.setAttribute("aria-label", `${title ? title.textContent : ""}: ${summary}`);
    }
    el.classList.toggle("selected", this.store.selection.has(node.id));
    const errors = problems ? problems.filter((i) => i.severity === "error").length : 0;
    const warnings = problems ? problems.length - errors : 0;
    el.classList.toggle("has-error", errors > 0);
    el.classList.toggle("has-warning", !errors && warnings > 0);
    const badge = el.querySelector(".node-badge");
    if (badge) {
      badge.hidden = !problems || !problems.length;
      badge.title = problems ? problems.map((i) => i.message).join("\n") : "";
      badge.querySelector(".node-badge-count").textContent = problems && problems.length > 1 ? problems.length : "";
    }
    if (this.store.info(node)?.portsFrom) this.syncPorts(el, node);
    for (const port of el.querySelectorAll(".port-out")) {
      port.classList.toggle("wired", Boolean(this.store.edgeFrom(node.id, port.dataset.port)));
    }
  }

  problemsByNode() {
    const map = new Map();
    for (const issue of this.store.issues) {
      if (!issue.node) continue;
      if (!map.has(issue.node)) map.set(issue.node, []);
      map.get(issue.node).push(issue);
    }
    return map;
  }

  ends(edge) {
    const source = this.store.node(edge.from);
    const target = this.store.node(edge.to);
    if (!source || !target) return null;
    return [portPosition(source, edgePort(edge), this.store.ports(source)), portPosition(target, "in", [])];
  }

  renderLinks() {
    const seen = new Set();
    for (const edge of this.store.graph.edges) {
      const key = edgeKey(edge);
      const ends = this.ends(edge);
      if (!ends || seen.has(key)) continue;
      seen.add(key);
      let link = this.links.get(key);
      if (!link) {
        link = this.createLink(edge, key);
        this.links.set(key, link);
      }
      const d = linkPath(ends[0], ends[1]);
      if (link.d !== d) {
        link.d = d;
        link.hit.setAttribute("d", d);
        link.line.setAttribute("d", d);
      }
      link.g.classList.toggle("selected", this.store.selectedEdge === key);
    }
    for (const [key, link] of this.links) {
      if (!seen.has(key)) {
        link.g.remove();
        this.links.delete(key);
      }
    }
    this.placeEdgeTools();
  }

  createLink(edge, key) {
    const port = edgePort(edge);
    const g = document.createElementNS(SVG, "g");
    g.setAttribute("class", `link link-${port}`);
    g.dataset.testid = edgeTestId(edge);
    g.dataset.key = key;
    const hit = document.createElementNS(SVG, "path");
    hit.setAttribute("class", "link-hit");
    const line = document.createElementNS(SVG, "path");
    line.setAttribute("class", "link-line");
    line.setAttribute("marker-end", `url(#arrow-${port === "out" ? "out" : port})`);
    g.append(hit, line);
    this.edgeLayer.appendChild(g);
    return { g, hit, line, d: "" };
  }

  placeEdgeTools() {
    const key = this.store.selectedEdge;
    const edge = key && this.store.graph.edges.find((e) => edgeKey(e) === key);
    const ends = edge && this.ends(edge);
    this.edgeTools.hidden = !ends;
    if (!ends) return;
    const mid = pointOn(ends[0], ends[1], 0.5);
    this.edgeTools.style.left = `${mid.x}px`;
    this.edgeTools.style.top = `${mid.y}px`;
  }

  // The link nearest to a canvas point, if within `tolerance` (dropping a block onto a link).
  linkNear(point, tolerance) {
    let best = null;
    for (const edge of this.store.graph.edges) {
      const ends = this.ends(edge);
      if (!ends) continue;
      for (let i = 1; i < 24; i += 1) {
        const p = pointOn(ends[0], ends[1], i / 24);
        const distance = Math.hypot(p.x - point.x, p.y - point.y);
        if (distance < tolerance && (!best || distance < best.distance)) best = { key: edgeKey(edge), distance };
      }
    }
    return best && best.key;
  }

  highlightLink(key) {
    for (const [k, link] of this.links) link.g.classList.toggle("drop-target", k === key);
  }

  showPreview(a, b) {
    this.preview.hidden = false;
    this.preview.setAttribute("d", linkPath(a, b));
  }

  hidePreview() {
    this.preview.hidden = true;
  }

  cardAt(clientX, clientY) {
    const el = document.elementFromPoint(clientX, clientY);
    const card = el && el.closest(".node[data-id]");
    return card ? card.dataset.id : null;
  }

  card(id) {
    return this.cards.get(id);
  }
}
