// Blocks create what they need. In a list block's panel a new list is typed in place: the
// server creates it, and it is added to the choices and selected (the form's "change" applies
// it to the block like any choice). "Create a new email" saves the canvas, opens the message
// editor with a way back (return_to), and saving the message comes back here with
// ?block=<id>&message=<key>: that block is selected and the new message chosen in it.

import { t } from "../i18n.js";

// Choose `value` in the panel's select `name`, as if picked by hand.
function choose(form, name, value, text) {
  const select = form?.elements[name];
  if (!select) return false;
  let option = [...select.options].find((o) => o.value === value);
  if (!option) {
    option = new Option(text || value, value);
    select.add(option);
  }
  select.value = value;
  select.dispatchEvent(new Event("change", { bubbles: true }));
  return true;
}

export class Creates {
  constructor({ store, panel, autosave, viewport, csrf, toast }) {
    Object.assign(this, { store, panel, autosave, viewport, csrf, toast });
    const el = panel.el;
    el.addEventListener("click", (event) => {
      const button = event.target.closest('[data-action="create-list"], [data-action="create-message"]');
      if (!button) return;
      event.preventDefault();
      if (button.dataset.action === "create-list") this.createList(button.closest("[data-create-list]"));
      else this.createMessage(button.dataset.channel);
    });
    // Enter in the new list's name creates it (instead of submitting the block's form).
    el.addEventListener("keydown", (event) => {
      if (event.key !== "Enter" || !event.target.matches("[data-new-list-name]")) return;
      event.preventDefault();
      this.createList(event.target.closest("[data-create-list]"));
    });
  }

  async createList(box) {
    if (!box) return;
    const input = box.querySelector("[data-new-list-name]");
    const error = box.querySelector("[data-create-error]");
    const button = box.querySelector('[data-action="create-list"]');
    const name = input.value.trim();
    const say = (text) => {
      error.textContent = text;
      error.hidden = !text;
    };
    if (!name) {
      say(t("Type the new list’s name."));
      input.focus();
      return;
    }
    button.disabled = true;
    let response;
    let body = {};
    try {
      response = await fetch("/scenarios/blocks/new-list", {
        method: "POST",
        headers: { "X-CSRF-Token": this.csrf },
        body: new URLSearchParams({ name }),
      });
      body = await response.json();
    } catch {
      say(t("The list could not be created. Check your connection."));
      return;
    } finally {
      button.disabled = false;
    }
    if (!response.ok) {
      say(typeof body.detail === "string" ? body.detail : t("The list could not be created."));
      return;
    }
    say("");
    input.value = "";
    box.open = false;
    choose(box.closest("form"), "list", body.key, body.name);
    this.toast?.(t("List “%(name)s” created and chosen.", { name: body.name }));
  }

  async createMessage(channel) {
    const id = this.panel.nodeId;
    if (!id) return;
    // The block must be saved before leaving, or coming back would not find it.
    if (!(await this.autosave.flush())) {
      this.toast?.(t("Save your changes first: this scenario changed elsewhere."), "error");
      return;
    }
    const back = `${window.location.pathname}?${new URLSearchParams({ block: id })}`;
    const query = new URLSearchParams({ channel: channel === "sms" ? "sms" : "email", return_to: back });
    window.location.assign(`/messages/new?${query}`);
  }

  // Coming back from the message editor: select the block, open it, choose the new message.
  async resume() {
    const params = new URLSearchParams(window.location.search);
    const id = params.get("block");
    const message = params.get("message");
    if (!id) return;
    window.history.replaceState(null, "", window.location.pathname);
    const node = this.store.node(id);
    if (!node) return;
    this.store.select([id]);
    this.viewport.reveal(node);
    await this.panel.show(id);
    if (message) choose(this.panel.el.querySelector("form"), "message", message);
  }
}
