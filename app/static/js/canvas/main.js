// The scenario canvas: boots from the JSON the page carries and wires the parts together.
//   state.js     graph, selection, undo/redo        render.js    cards, links, badges
//   viewport.js  zoom, pan, fit                     interact.js  pointer: move, link, palette
//   menus.js     add/link/duplicate without drag    panel.js     server-rendered settings
//   autosave.js  debounced saves with revision      issues.js    the list of things to fix
//   keyboard.js  shortcuts                          layout.js    tidy up
//   readonly.js  a published version, looked at and never saved
//   publish.js   the publish plan of a live scenario's changes

import { Autosave } from "./autosave.js";
import { Creates } from "./creates.js";
import { existingChoice, followQueues, showQueues } from "./existing.js";
import { Interactions } from "./interact.js";
import { IssuesList } from "./issues.js";
import { bindKeys } from "./keyboard.js";
import { tidy } from "./layout.js";
import { Menus } from "./menus.js";
import { Panel } from "./panel.js";
import { publishChanges } from "./publish.js";
import { NoSave, isReadOnly } from "./readonly.js";
import { Renderer } from "./render.js";
import { Store } from "./state.js";
import { Viewport } from "./viewport.js";
import { t, tn } from "../i18n.js";

const root = document.getElementById("editor");
const data = JSON.parse(document.getElementById("canvas-data").textContent);
const csrf = root.dataset.csrf;
const scenario = data.scenario;
const $ = (selector) => root.querySelector(selector);
const canvas = $(".canvas");

const store = new Store(data.graph, data.palette);
store.readOnly = isReadOnly(root);
for (const node of store.graph.nodes) {
  if (data.summaries[node.id] !== undefined) node._summary = data.summaries[node.id];
}
store.issues = data.issues;

const renderer = new Renderer(store, canvas);
const viewport = new Viewport(canvas, $(".viewport"), (v) => {
  $(".zoom-level").textContent = `${Math.round(v.z * 100)}%`;
  canvas.style.backgroundSize = `${22 * v.z}px ${22 * v.z}px`;
  canvas.style.backgroundPosition = `${v.x}px ${v.y}px`;
});
// The browser scrolls the canvas to show a block that gets the focus: turn that into a pan,
// so the cards and the transformed layer stay in step.
canvas.addEventListener("scroll", () => {
  if (!canvas.scrollLeft && !canvas.scrollTop) return;
  const { scrollLeft, scrollTop } = canvas;
  canvas.scrollLeft = 0;
  canvas.scrollTop = 0;
  viewport.panBy(-scrollLeft, -scrollTop);
});
const panel = new Panel({ store, el: $(".panel"), csrf });

// The palette and the settings panel can be closed (a 1024 px screen gives the canvas room);
// opening a block's settings on purpose brings the panel back.
function showSide(name, shown) {
  root.classList.toggle(`${name}-closed`, !shown);
  $(`[data-action="toggle-${name}"]`)?.setAttribute("aria-pressed", String(shown));
}
function openPanel(id, options) {
  showSide("panel", true);
  return panel.show(id, options);
}
const menus = new Menus({
  store,
  viewport,
  renderer,
  menu: $(".add-menu"),
  palette: data.palette,
  paletteEl: $(".palette"),
  onOpen: (id, options) => openPanel(id, options),
});
new Interactions({
  store,
  renderer,
  viewport,
  canvas,
  palette: $(".palette"),
  tip: $(".wire-tip"),
  box: $(".selection-box"),
  menus,
  onOpen: (id, options) => openPanel(id, options),
});
const issues = new IssuesList({
  store,
  drawer: $(".issues-drawer"),
  button: $(".issues-button"),
  viewport,
  panel,
  labels: data.labels,
});
const STATUS_NAMES = { draft: t("Draft"), active: t("Active"), paused: t("Paused") };

let toastTimer = null;
function toast(text, tone = "ok") {
  const el = $("#toast");
  el.textContent = text;
  el.dataset.tone = tone;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (el.hidden = true), 5000);
}

const autosave = store.readOnly ? new NoSave() : new Autosave({
  store,
  scenarioId: scenario.id,
  revision: scenario.revision,
  csrf,
  status: $(".save-status"),
  onSaved(result) {
    for (const node of store.graph.nodes) {
      if (result.summaries[node.id] !== undefined) node._summary = result.summaries[node.id];
    }
    store.setIssues(result.issues);
  },
  onConflict() {
    $("#conflict").hidden = false;
    root.classList.add("in-conflict");
  },
});

function showStatus(status, version) {
  scenario.status = status;
  if (version) scenario.liveVersion = version;
  const badge = $("#status-badge");
  badge.className = `badge ${status}`;
  badge.textContent = `${STATUS_NAMES[status] || status}${scenario.liveVersion ? ` · v${scenario.liveVersion}` : ""}`;
  $('[data-action="pause"]').hidden = status !== "active";
  $(".activate-text").textContent = status === "active" ? t("Publish changes") : t("Activate");
}

async function post(url, json) {
  const headers = json ? { "X-CSRF-Token": csrf, "Content-Type": "application/json" } : { "X-CSRF-Token": csrf };
  const response = await fetch(url, { method: "POST", headers, body: json ? JSON.stringify(json) : undefined });
  let body = {};
  try {
    body = await response.json();
  } catch {
    body = { detail: t("Something went wrong (error %(status)s).", { status: String(response.status) }) };
  }
  return { response, body };
}

function liveMessage(body) {
  const version = String(body.version);
  const existing = body.existing;
  if (existing && existing.waiting) {
    return tn("Live: version %(version)s. %(count)s contact already there waits to enter, %(rate)s per hour.", "Live: version %(version)s. %(count)s contacts already there wait to enter, %(rate)s per hour.", existing.waiting, { version, rate: existing.per_hour });
  }
  if (existing && existing.entered) {
    return tn("Live: version %(version)s. %(count)s contact already there entered too.", "Live: version %(version)s. %(count)s contacts already there entered too.", existing.entered, { version });
  }
  return t("Live: version %(version)s. New contacts now follow this scenario.", { version });
}

const actions = {
  async save() {
    await autosave.save();
  },
  fit() {
    viewport.fit(store.graph.nodes);
  },
  tidy() {
    if (!store.graph.nodes.length) return;
    const positions = tidy(store.graph);
    store.change("tidy-up", () => {
      for (const node of store.graph.nodes) Object.assign(node, positions.get(node.id));
    });
    viewport.fit(store.graph.nodes);
  },
  closeIssues() {
    issues.close();
  },
  async activate(button) {
    button.disabled = true;
    try {
      if (!(await autosave.flush())) {
        toast(t("Save your changes first: this scenario changed elsewhere."), "error");
        return;
      }
      // A live scenario whose draft changed: the publish plan asks about everything first.
      const published = await publishChanges({ root, scenarioId: scenario.id, post });
      if (published === null) return;
      if (published) {
        showStatus(published.result.status, published.result.version);
        if (published.result.queue) showQueues(root, published.result.queue);
        toast(published.message);
        issues.close();
        return;
      }
      // A list, segment or attribute trigger: ask whether the contacts already there enter too.
      const existing = await existingChoice(scenario.id);
      if (existing === null) return;
      const { response, body } = await post(`/scenarios/${scenario.id}/activate`, existing);
      if (response.ok) {
        showStatus(body.status, body.version);
        if (body.queue) showQueues(root, body.queue);
        toast(liveMessage(body));
        issues.close();
      } else if (body.detail && body.detail.issues) {
        store.setIssues(body.detail.issues);
        issues.open(body.detail.message);
        toast(body.detail.message, "error");
      } else {
        toast(typeof body.detail === "string" ? body.detail : t("The scenario could not be activated."), "error");
      }
    } finally {
      button.disabled = false;
    }
  },
  async pause(button) {
    button.disabled = true;
    const { response, body } = await post(`/scenarios/${scenario.id}/pause`);
    button.disabled = false;
    if (response.ok) {
      showStatus(body.status);
      toast(t("Paused: no contact moves on until you activate it again."));
    } else toast(body.detail || t("The scenario could not be paused."), "error");
  },
};

root.addEventListener("click", (event) => {
  const button = event.target.closest("[data-action]");
  if (!button || button.disabled) return;
  const action = button.dataset.action;
  const simple = {
    undo: () => store.undo(),
    redo: () => store.redo(),
    "zoom-in": () => viewport.zoomAt(1.2),
    "zoom-out": () => viewport.zoomAt(1 / 1.2),
    "zoom-reset": () => viewport.reset(),
    fit: actions.fit,
    tidy: actions.tidy,
    save: actions.save,
    "toggle-issues": () => issues.toggle(),
    reload: () => window.location.reload(),
    "close-panel": () => {
      store.clearSelection();
      panel.closeSettings();
    },
    "scenario-settings": () => {
      showSide("panel", true);
      panel.showSettings({ focus: true });
    },
    "toggle-palette": () => showSide("palette", root.classList.contains("palette-closed")),
    "toggle-panel": () => showSide("panel", root.classList.contains("panel-closed")),
    duplicate: () => store.duplicateSelected(),
    delete: () => store.removeSelected(),
    "insert-on-edge": () => store.selectedEdge && menus.insertOnLink(store.selectedEdge, button),
    activate: () => actions.activate(button),
    pause: () => actions.pause(button),
  };
  if (simple[action]) {
    event.preventDefault();
    simple[action]();
  }
});

$("[data-palette-filter]").addEventListener("input", (event) => {
  const words = event.target.value.trim().toLowerCase();
  for (const item of root.querySelectorAll(".palette-item")) {
    item.hidden = Boolean(words) && !item.textContent.toLowerCase().includes(words);
  }
  for (const family of root.querySelectorAll(".palette-family")) {
    family.hidden = ![...family.querySelectorAll(".palette-item")].some((i) => !i.hidden);
  }
});

bindKeys({ store, viewport, actions, menus, panel });

const undo = $('[data-action="undo"]');
const redo = $('[data-action="redo"]');
store.addEventListener("change", (event) => {
  const { persist, label } = event.detail;
  renderer.render();
  if (label === "drag") return;
  if (persist) autosave.schedule();
  undo.disabled = !store.undoStack.length;
  redo.disabled = !store.redoStack.length;
  if (label === "issues") issues.render();
  panel.sync();
});

const creates = new Creates({ store, panel, autosave, viewport, csrf, toast });

renderer.render();
showQueues(root, data.queue);
followQueues(root, scenario.id);
issues.render();
viewport.open(store.graph.nodes);
// Fitted to the content on opening; until the first move by hand, a change of the canvas's size
// (fonts, a wrapped header, a closed panel) fits it again.
let moved = false;
canvas.addEventListener("pointerdown", () => (moved = true), { once: true });
canvas.addEventListener("wheel", () => (moved = true), { once: true });
canvas.addEventListener("keydown", () => (moved = true), { once: true });
root.addEventListener("click", (event) => {
  if (event.target.closest('[data-action^="zoom"], [data-action="fit"], [data-action="tidy"]')) moved = true;
});
new ResizeObserver(() => {
  if (!moved) viewport.open(store.graph.nodes);
}).observe(canvas);
if (data.notice) toast(data.notice);
creates.resume().finally(() => (root.dataset.ready = "true"));
