// The random split's panel (canvas/panels/condition_random_split.html): adds and removes
// branch rows (2 to 5) and keeps the "total 100 %" line true as percentages are typed. The
// form reads the rows in order; a change event makes htmx apply them like any other field.
// Listeners are on the document because panels are replaced as blocks are selected.

import { t } from "../i18n.js";

const PORTS = "abcdefghijklmnopqrstuvwxyz";

function rows(box) {
  return [...box.querySelectorAll(".split-row")];
}

export function splitTotal(box) {
  return rows(box).reduce((sum, row) => {
    const text = row.querySelector('[name="branch_percent"]').value.trim().replace(/\s*%$/, "");
    return sum + (/^\d{1,3}$/.test(text) ? Number(text) : 0);
  }, 0);
}

function showTotal(box) {
  const total = splitTotal(box);
  const line = box.querySelector("[data-split-total]");
  if (!line) return;
  line.textContent =
    total === 100
      ? t("Total: %(total)s", { total: `${total} %` })
      : t("Total: %(total)s — the percentages must make %(hundred)s", { total: `${total} %`, hundred: "100 %" });
  line.classList.toggle("split-total-wrong", total !== 100);
  box.querySelector("[data-split-add]").disabled = rows(box).length >= Number(box.dataset.max);
  for (const button of box.querySelectorAll("[data-split-remove]")) {
    button.disabled = rows(box).length <= Number(box.dataset.min);
  }
}

function changed(input) {
  input.dispatchEvent(new Event("change", { bubbles: true }));
}

function addBranch(box) {
  const all = rows(box);
  if (!all.length || all.length >= Number(box.dataset.max)) return;
  const used = new Set(all.map((row) => row.querySelector('[name="branch_port"]').value));
  const port = [...PORTS].find((letter) => !used.has(letter));
  const row = all[all.length - 1].cloneNode(true);
  row.querySelector('[name="branch_port"]').value = port;
  const label = row.querySelector('[name="branch_label"]');
  label.value = port.toUpperCase();
  label.placeholder = port;
  row.querySelector('[name="branch_percent"]').value = "";
  all[all.length - 1].after(row);
  showTotal(box);
  row.querySelector('[name="branch_percent"]').focus();
  changed(label);
}

function removeBranch(box, row) {
  if (rows(box).length <= Number(box.dataset.min)) return;
  const other = rows(box).find((r) => r !== row);
  row.remove();
  showTotal(box);
  changed(other.querySelector('[name="branch_label"]'));
}

document.addEventListener("click", (event) => {
  const box = event.target.closest("[data-split-branches]");
  if (!box || box.closest("fieldset:disabled")) return;
  if (event.target.closest("[data-split-add]")) addBranch(box);
  const remove = event.target.closest("[data-split-remove]");
  if (remove) removeBranch(box, remove.closest(".split-row"));
});

document.addEventListener("input", (event) => {
  const box = event.target.closest("[data-split-branches]");
  if (box) showTotal(box);
});

// A panel just drawn: say its total at once.
new MutationObserver(() => {
  for (const box of document.querySelectorAll("[data-split-branches]:not([data-split-ready])")) {
    box.dataset.splitReady = "";
    showTotal(box);
  }
}).observe(document.body, { childList: true, subtree: true });
