// The side panel: the server renders one block's settings form (canvas/panels/<type>_<kind>),
// htmx submits it, and the answer's "parcours:config" event brings the block's new settings
// and summary back into the canvas state (so they can be undone and are autosaved).
// The scenario settings (re-entry, goal) use the same panel: canvas/settings_panel.html answers
// with "parcours:settings" instead.

import { initBuilders } from "../condition-builder.js";
import { t, tn } from "../i18n.js";

// JSON with sorted keys, to compare settings whatever order their keys came in.
function canonical(value) {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

export class Panel {
  constructor({ store, el, csrf }) {
    Object.assign(this, { store, el, csrf });
    this.intro = el.innerHTML;
    this.nodeId = null;
    this.shown = null;
    this.settingsShown = null; // the settings the open settings panel shows, or null
    this.request = 0;
    document.addEventListener("parcours:config", (event) => this.applied(event.detail));
    document.addEventListener("parcours:settings", (event) => this.settingsApplied(event.detail));
    el.addEventListener("click", (event) => this.chip(event));
  }

  applied(detail) {
    const node = detail && this.store.node(detail.node);
    if (!node) return;
    // Answered for settings that have changed since (an undo meanwhile): too late to apply.
    if (detail.base !== undefined && canonical(detail.base ?? {}) !== canonical(node.config)) return;
    if (detail.node === this.nodeId) {
      this.shown = JSON.stringify(detail.config);
      const base = this.el.querySelector('input[name="base"]');
      if (base) base.value = JSON.stringify(detail.config);
    }
    if (canonical(detail.config) === canonical(node.config)) {
      node._summary = detail.summary; // nothing changed: nothing to undo or save
      return;
    }
    this.store.setConfig(detail.node, detail.config, detail.summary);
  }

  settingsApplied(detail) {
    if (!detail || !detail.settings) return;
    const current = this.store.graph.settings;
    if (detail.base !== undefined && canonical(detail.base ?? {}) !== canonical(current)) return;
    if (this.settingsShown !== null) {
      this.settingsShown = canonical(detail.settings);
      const base = this.el.querySelector('input[name="base"]');
      if (base) base.value = JSON.stringify(detail.settings);
    }
    if (canonical(detail.settings) !== canonical(current)) this.store.setSettings(detail.settings);
  }

  // Quick picks: fill a field (an event name, a usual wait) as if typed.
  chip(event) {
    const chip = event.target.closest(".chip");
    if (!chip) return;
    const form = chip.closest("form");
    if (chip.dataset.fill) {
      const input = form.elements[chip.dataset.fill];
      input.value = chip.dataset.value;
      input.dispatchEvent(new Event("change", { bubbles: true }));
    } else if (chip.dataset.fillDuration) {
      form.elements.amount.value = chip.dataset.fillDuration;
      form.elements.unit.value = chip.dataset.unit;
      form.elements.unit.dispatchEvent(new Event("change", { bubbles: true }));
    }
  }

  // Called after every state change.
  sync() {
    const ids = [...this.store.selection];
    if (this.settingsShown !== null && !ids.length) {
      if (canonical(this.store.graph.settings) !== this.settingsShown) this.showSettings();
      else this.markProblems();
      return;
    }
    if (ids.length !== 1) {
      if (this.nodeId !== null || ids.length > 1) this.showOverview(ids.length);
      return;
    }
    const node = this.store.node(ids[0]);
    if (!node) return;
    if (node.id !== this.nodeId || JSON.stringify(node.config) !== this.shown) this.show(node.id);
    else this.markProblems();
  }

  showOverview(count) {
    this.nodeId = null;
    this.shown = null;
    this.settingsShown = null;
    this.request += 1;
    if (count > 1) {
      this.el.innerHTML = `<div class="panel-intro"><h2></h2>
        <p class="muted"></p>
        <div class="panel-foot"><button type="button" class="button small" data-action="duplicate"></button>
        <button type="button" class="button small danger" data-action="delete"></button></div></div>`;
      this.el.querySelector("h2").textContent = tn("%(count)s block selected", "%(count)s blocks selected", count);
      this.el.querySelector("p").textContent = t("Drag one of them to move them together.");
      this.el.querySelector('[data-action="duplicate"]').textContent = t("Duplicate");
      this.el.querySelector('[data-action="delete"]').textContent = t("Delete");
    } else {
      this.el.innerHTML = this.intro;
    }
  }

  async show(id, { focus = false } = {}) {
    const node = this.store.node(id);
    if (!node) return;
    this.nodeId = id;
    this.shown = JSON.stringify(node.config);
    this.settingsShown = null;
    const body = { id: node.id, type: node.type, kind: node.kind, config: node.config };
    // The scenario shown: the manual trigger's panel enrolls contacts into it.
    const scenario = this.el.closest("[data-scenario]")?.dataset.scenario;
    await this.load(this.url("/scenarios/blocks/panel", scenario ? { scenario } : {}), body, focus);
  }

  // The scenario's own settings; the selection is cleared so the panel is theirs.
  async showSettings({ focus = false } = {}) {
    this.store.clearSelection();
    this.nodeId = null;
    this.shown = null;
    const saved = this.store.graph.settings;
    const settings = saved && typeof saved === "object" && !Array.isArray(saved) ? saved : {};
    this.settingsShown = canonical(saved);
    await this.load(this.url("/scenarios/settings/panel"), settings, focus);
  }

  // A published version's panels are drawn read only by the server (no Apply, controls disabled).
  url(path, params = {}) {
    const query = new URLSearchParams(params);
    if (this.store.readOnly) query.set("readonly", "true");
    const search = query.toString();
    return search ? `${path}?${search}` : path;
  }

  closeSettings() {
    if (this.settingsShown !== null) this.showOverview(0);
  }

  async load(url, body, focus) {
    const ticket = ++this.request;
    let html;
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": this.csrf },
        body: JSON.stringify(body),
      });
      html = await response.text();
    } catch {
      html = '<div class="alert alert-error" role="alert"></div>';
    }
    if (ticket !== this.request) return;
    this.el.innerHTML = html;
    const failed = this.el.querySelector(".alert-error:empty");
    if (failed) failed.textContent = t("The settings could not be loaded. Check your connection.");
    if (window.htmx) window.htmx.process(this.el);
    initBuilders(this.el);
    this.markProblems();
    if (focus) this.el.querySelector(".panel-fields input:not([type=hidden]), .panel-fields select, .panel-fields textarea")?.focus();
  }

  focus() {
    this.el.querySelector(".panel-fields input:not([type=hidden]), .panel-fields select, .panel-fields textarea, .panel-head button")?.focus();
  }

  // Highlight the settings the last save found wrong (issue.field is "config.<name>", or
  // "settings.<name>" with no block for the scenario settings).
  markProblems() {
    const settings = this.settingsShown !== null;
    if (!this.nodeId && !settings) return;
    const fields = new Set(
      this.store.issues
        .filter((i) => i.field && i.severity === "error")
        .filter((i) => (settings ? i.node === null && i.field.startsWith("settings.") : i.node === this.nodeId))
        .map((i) => i.field.replace(/^(config|settings)\./, "").split(".")[0]),
    );
    for (const el of this.el.querySelectorAll("[data-field]")) {
      if (el.closest(".panel-feedback")) continue;
      el.classList.toggle("has-problem", fields.has(el.dataset.field));
    }
  }
}
