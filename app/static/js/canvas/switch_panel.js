// The switch's panel (canvas/panels/condition_switch.html): adds, removes and moves its cases
// (1 to 8), each with a name and a condition builder. The order is the order the cases are
// tested in, and the form reads the rows in that order; a change event makes htmx apply them
// like any other field. Listeners are on the document because panels are replaced as blocks
// are selected.

import { initBuilders } from "../condition-builder.js";

function rows(box) {
  return [...box.querySelectorAll(":scope > .switch-rows > .switch-case")];
}

function refresh(box) {
  const all = rows(box);
  all.forEach((row, index) => {
    row.querySelector("[data-switch-number]").textContent = String(index + 1);
    row.querySelector("[data-switch-up]").disabled = index === 0;
    row.querySelector("[data-switch-down]").disabled = index === all.length - 1;
    row.querySelector("[data-switch-remove]").disabled = all.length <= Number(box.dataset.min);
  });
  box.querySelector("[data-switch-add]").disabled = all.length >= Number(box.dataset.max);
}

function changed(box) {
  refresh(box);
  const input = box.querySelector('[name="case_port"]');
  (input || box).dispatchEvent(new Event("change", { bubbles: true }));
}

function addCase(box) {
  const all = rows(box);
  if (all.length >= Number(box.dataset.max)) return;
  // A new port name, never one a link may still use: c1, c2, … the first one free.
  const used = new Set(all.map((row) => row.querySelector('[name="case_port"]').value));
  let number = 1;
  while (used.has(`c${number}`)) number += 1;
  const template = box.querySelector("template[data-switch-template]");
  const row = template.content.firstElementChild.cloneNode(true);
  row.querySelector('[name="case_port"]').value = `c${number}`;
  box.querySelector(".switch-rows").appendChild(row);
  initBuilders(row);
  refresh(box);
  row.querySelector('[name="case_label"]').focus();
  changed(box);
}

function move(box, row, step) {
  const all = rows(box);
  const index = all.indexOf(row);
  const other = all[index + step];
  if (!other) return;
  if (step < 0) other.before(row);
  else other.after(row);
  changed(box);
  row.querySelector(step < 0 ? "[data-switch-up]" : "[data-switch-down]")?.focus();
}

function removeCase(box, row) {
  if (rows(box).length <= Number(box.dataset.min)) return;
  row.remove();
  changed(box);
}

document.addEventListener("click", (event) => {
  const box = event.target.closest("[data-switch-cases]");
  if (!box || box.closest("fieldset:disabled")) return;
  const row = event.target.closest(".switch-case");
  if (event.target.closest("[data-switch-add]")) addCase(box);
  else if (row && event.target.closest("[data-switch-up]")) move(box, row, -1);
  else if (row && event.target.closest("[data-switch-down]")) move(box, row, 1);
  else if (row && event.target.closest("[data-switch-remove]")) removeCase(box, row);
});

// A panel just drawn: its buttons as its rows allow.
new MutationObserver(() => {
  for (const box of document.querySelectorAll("[data-switch-cases]:not([data-switch-ready])")) {
    box.dataset.switchReady = "";
    refresh(box);
  }
}).observe(document.body, { childList: true, subtree: true });
