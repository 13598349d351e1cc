// A published version open on the canvas (GET /scenarios/{id}/versions/{n}): looked at, never
// changed. The store refuses every change (state.js), the pointer only pans and selects
// (interact.js), menus stay shut (menus.js), panels come read only from the server (panel.js),
// and NoSave stands in for the autosave, so nothing on this page writes the draft. The page
// holds no draft revision either: a save sent from it anyway would be refused by the server.

export function isReadOnly(root) {
  return root.hasAttribute("data-readonly");
}

// The autosave's interface, saving nothing: flush() answers "not saved" to whoever waits on it.
export class NoSave {
  schedule() {}

  async save() {}

  async flush() {
    return false;
  }
}
