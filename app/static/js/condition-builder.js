// The visual condition builder (_condition_builder.html), on the canvas panels and the segment
// page: rows and groups edited in place, serialised into the hidden input as condition JSON
// (DESIGN §4) on every change, which fires a bubbling "change" on it (hx-trigger="change"
// sees it). The server validates the meaning and says in plain words what is wrong.

import { t } from "./i18n.js";

const NUMBER = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?$/;
const WHOLE = /^[0-9]+$/;
const NO_VALUE = new Set(["exists", "not_exists"]);

function scalar(text) {
  return NUMBER.test(text) ? Number(text) : text;
}

function attributeValue(op, text) {
  if (op === "in") return text.split(",").map((t) => t.trim()).filter(Boolean).map(scalar);
  if (["gt", "gte", "lt", "lte"].includes(op)) return NUMBER.test(text) ? Number(text) : text;
  if (["within_last_days", "older_than_days"].includes(op)) return WHOLE.test(text) ? Number(text) : text;
  if (["eq", "ne"].includes(op)) return scalar(text);
  return text;
}

function field(row, kind, name) {
  return row.querySelector(`[data-for="${kind}"] [data-f="${name}"]`);
}

function rowKind(row) {
  return row.querySelector('[data-f="row"]').value;
}

function serializeRow(row) {
  const kind = rowKind(row);
  const extra = JSON.parse(row.dataset.extra || "{}");
  if (kind === "attribute") {
    const attribute = field(row, kind, "attribute").value.trim();
    if (!attribute) return null;
    const op = field(row, kind, "op").value;
    const condition = { attribute, op };
    if (NO_VALUE.has(op)) return condition;
    const text = field(row, kind, "value").value.trim();
    if (!text) return null; // still being written
    condition.value = attributeValue(op, text);
    return condition;
  }
  if (kind === "event") {
    const event = field(row, kind, "event").value.trim();
    if (!event) return null;
    const op = field(row, kind, "eop").value;
    const condition = { event, op };
    const count = field(row, kind, "count").value.trim();
    if (op !== "none") condition.value = WHOLE.test(count) ? Number(count) : count;
    const days = field(row, kind, "within_days").value.trim();
    if (days) condition.within_days = WHOLE.test(days) ? Number(days) : days;
    return { ...condition, ...extra };
  }
  if (kind === "list") {
    const list = field(row, kind, "list").value;
    return list ? { list, op: field(row, kind, "lop").value } : null;
  }
  return { consent: field(row, kind, "consent").value, op: field(row, kind, "cop").value };
}

function serializeGroup(group) {
  const join = group.querySelector(':scope > .cb-group-head [data-f="join"]').value;
  const items = [...group.querySelector(":scope > .cb-items").children]
    .map((el) => (el.matches("[data-cb-group]") ? serializeGroup(el) : serializeRow(el)))
    .filter(Boolean);
  if (join === "none") return { not: { any: items } };
  return { [join]: items };
}

export function serialize(builder) {
  const root = builder.querySelector(":scope > [data-cb-group]");
  const condition = serializeGroup(root);
  const items = condition.all || condition.any || condition.not.any;
  if (!items.length) return null;
  if (condition.all && items.length === 1) return items[0];
  return condition;
}

function refreshRow(row) {
  const kind = rowKind(row);
  for (const part of row.querySelectorAll("[data-for]")) part.hidden = part.dataset.for !== kind;
  const op = field(row, "attribute", "op");
  const value = field(row, "attribute", "value");
  if (op && value) {
    value.hidden = NO_VALUE.has(op.value);
    if (op.value === "in") value.placeholder = t("a, b, c");
    else if (op.value.endsWith("_days")) value.placeholder = t("days");
    else if (op.value === "before" || op.value === "after") value.placeholder = "2024-12-31";
    else value.placeholder = t("value");
  }
  const eop = field(row, "event", "eop");
  if (eop) {
    const never = eop.value === "none";
    field(row, "event", "count").hidden = never;
    row.querySelector("[data-times]").hidden = never;
  }
}

function setup(builder) {
  if (builder.dataset.cbReady) return;
  builder.dataset.cbReady = "1";
  const hidden = builder.querySelector(":scope > input[type=hidden]");
  const refresh = () => {
    for (const row of builder.querySelectorAll("[data-cb-row]")) refreshRow(row);
    const condition = serialize(builder);
    hidden.value = condition ? JSON.stringify(condition) : "";
    const empty = builder.querySelector(".cb-empty");
    if (empty) empty.hidden = builder.querySelectorAll("[data-cb-row]").length > 0;
  };
  const changed = () => {
    refresh();
    hidden.dispatchEvent(new Event("change", { bubbles: true }));
  };
  builder.addEventListener("click", (event) => {
    const add = event.target.closest("[data-cb-add]");
    const remove = event.target.closest("[data-cb-remove]");
    if (add) {
      const group = add.closest("[data-cb-group]");
      const template = builder.querySelector(`template[data-cb-template="${add.dataset.cbAdd}"]`);
      const fresh = template.content.firstElementChild.cloneNode(true);
      group.querySelector(":scope > .cb-items").appendChild(fresh);
      refresh();
      fresh.querySelector("input:not([type=hidden]), select")?.focus();
      // An empty test changes nothing yet: no need to save.
    } else if (remove) {
      remove.closest("[data-cb-row], [data-cb-group]").remove();
      changed();
    }
  });
  builder.addEventListener("input", refresh);
  builder.addEventListener("change", (event) => {
    if (event.target !== hidden) refresh();
  });
  refresh();
}

export function initBuilders(root) {
  for (const builder of root.querySelectorAll("[data-cb]")) setup(builder);
}

// A page that loads this module directly (the segment editor) gets its builders mounted.
initBuilders(document);
