// Autosave: each change is saved about a second later with the revision it was based on.
// A save refused with 409 means another tab or person saved first: nothing is overwritten,
// saving stops, and the page says to reload.

import { t } from "../i18n.js";

const DELAY_MS = 900;

export class Autosave {
  constructor({ store, scenarioId, revision, csrf, status, onSaved, onConflict }) {
    Object.assign(this, { store, scenarioId, revision, csrf, status, onSaved, onConflict });
    this.timer = null;
    this.running = null;
    this.dirty = false;
    this.conflict = false;
    // Leaving with a change not yet sent: send it anyway (fetch keepalive outlives the page).
    window.addEventListener("pagehide", () => {
      if (this.dirty && !this.conflict && !this.running) this.send({ leaving: true });
    });
  }

  schedule() {
    if (this.conflict) return;
    this.dirty = true;
    this.show("dirty", t("Unsaved changes…"));
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.save(), DELAY_MS);
  }

  show(state, text) {
    this.status.dataset.state = state;
    this.status.querySelector(".save-text").textContent = text;
  }

  // Save now (the Save button, Ctrl+S, before activating); resolves once nothing is pending.
  async flush() {
    clearTimeout(this.timer);
    if (this.running) await this.running;
    if (this.dirty && !this.conflict) await this.save();
    return !this.conflict && !this.dirty;
  }

  async save() {
    clearTimeout(this.timer);
    if (this.conflict) return;
    if (this.running) {
      await this.running;
      if (!this.dirty) return;
    }
    this.running = this.send();
    try {
      await this.running;
    } finally {
      this.running = null;
    }
  }

  async send({ leaving = false } = {}) {
    this.dirty = false;
    this.show("saving", t("Saving…"));
    const body = JSON.stringify({ graph: this.store.toDocument(), revision: this.revision });
    let response;
    try {
      response = await fetch(`/scenarios/${this.scenarioId}/draft`, {
        method: "PUT",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": this.csrf },
        body,
        // Browsers cap keepalive bodies at 64 KB; it is only needed while the page closes.
        keepalive: leaving && body.length < 60000,
      });
    } catch {
      this.dirty = true;
      this.show("error", t("Not saved — offline? Retrying…"));
      this.timer = setTimeout(() => this.save(), 5000);
      return;
    }
    if (response.status === 409) {
      this.conflict = true;
      this.show("error", t("Not saved: changed elsewhere"));
      this.onConflict();
      return;
    }
    if (!response.ok || response.redirected) {
      this.dirty = true;
      const text = response.redirected
        ? t("Logged out — log in again in another tab")
        : t("Not saved (error %(status)s)", { status: String(response.status) });
      this.show("error", text);
      return;
    }
    const data = await response.json();
    this.revision = data.revision;
    this.status.dataset.revision = data.revision;
    this.show(
      this.dirty ? "dirty" : "saved",
      this.dirty ? t("Unsaved changes…") : t("Saved · revision %(revision)s", { revision: String(data.revision) }),
    );
    this.onSaved(data);
  }
}
