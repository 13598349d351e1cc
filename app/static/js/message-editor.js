// The message editor's two helpers (app/templates/messages_editor.html):
//
// - Unsaved changes: leaving the page (a link, reload, closing the tab) asks first, but only
//   when what is in the form differs from what was last saved. A save that the server accepts
//   (2xx, including the redirect after a new message's first save) makes the form clean again.
// - "Insert a field": a menu of the contact's fields and attributes in plain words; choosing
//   one puts its placeholder ({{ contact.first_name }}…) where the cursor was in the subject or
//   text last written in, as if typed (the preview follows).

import { t } from "./i18n.js";

const form = document.getElementById("message-form");
// What is saved: the preview's contact, the width toggle and the test number are not.
const SAVED = ["name", "key", "purpose", "from_name", "from_email", "reply_to", "subject", "html", "text"];

function snapshot() {
  const data = new FormData(form);
  return JSON.stringify(SAVED.map((name) => data.getAll(name)));
}

if (form) {
  let saved = snapshot();
  const isDirty = () => snapshot() !== saved;

  window.addEventListener("beforeunload", (event) => {
    if (!isDirty()) return;
    event.preventDefault();
    event.returnValue = ""; // older browsers need it to show their own "leave the page?" box
  });

  // htmx 4 tells of each answer before it swaps it or follows its HX-Redirect.
  document.addEventListener("htmx:after:request", (event) => {
    const ctx = event.detail && event.detail.ctx;
    const action = String((ctx && ctx.request && ctx.request.action) || "");
    const status = (ctx && ctx.response && ctx.response.status) || 0;
    if (action.includes("/messages/save") && status >= 200 && status < 300) saved = snapshot();
  });

  setUpInsertMenu(form);
}

function setUpInsertMenu(form) {
  const box = form.querySelector("[data-insert-field]");
  if (!box) return;
  const button = box.querySelector("[aria-haspopup]");
  const menu = box.querySelector('[role="menu"]');
  const status = box.querySelector("[data-insert-status]");
  const targets = () => [...form.querySelectorAll('input[name="subject"], textarea[name="html"], textarea[name="text"]')];
  // Where the placeholder goes: the field last written in, or the body / the SMS text.
  let field = form.querySelector('textarea[name="html"]') || form.querySelector('textarea[name="text"]');
  let written = false; // not yet: the placeholder goes at the end of the body

  form.addEventListener("focusin", (event) => {
    if (!targets().includes(event.target)) return;
    field = event.target;
    written = true;
  });

  const items = () => [...menu.querySelectorAll('[role="menuitem"]')];
  const open = () => {
    menu.hidden = false;
    button.setAttribute("aria-expanded", "true");
    items()[0]?.focus();
  };
  const close = (refocus) => {
    menu.hidden = true;
    button.setAttribute("aria-expanded", "false");
    if (refocus) button.focus();
  };

  button.addEventListener("click", () => (menu.hidden ? open() : close(false)));
  document.addEventListener("pointerdown", (event) => {
    if (!menu.hidden && !box.contains(event.target)) close(false);
  });
  menu.addEventListener("keydown", (event) => {
    const list = items();
    const at = list.indexOf(document.activeElement);
    if (event.key === "Escape") {
      event.preventDefault();
      close(true);
    } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : -1;
      list[(at + step + list.length) % list.length]?.focus();
    } else if (event.key === "Home" || event.key === "End") {
      event.preventDefault();
      list[event.key === "Home" ? 0 : list.length - 1]?.focus();
    }
  });
  menu.addEventListener("click", (event) => {
    const item = event.target.closest('[role="menuitem"]');
    if (!item || !field) return;
    close(false);
    insertAtCursor(field, item.dataset.placeholder, written);
    status.textContent = t("“%(field)s” inserted.", { field: item.textContent.trim() });
  });
}

function insertAtCursor(field, text, atCursor) {
  const start = atCursor ? field.selectionStart : field.value.length;
  const end = atCursor ? field.selectionEnd : start;
  field.focus();
  field.setRangeText(text, start, end, "end");
  // As if typed: the preview refreshes and the form counts as changed.
  field.dispatchEvent(new Event("input", { bubbles: true }));
}
