// The visual condition builder: reads and writes the condition JSON of DESIGN §4.
//
// Markup (see app/templates/_condition_builder.html):
//   <div data-condition-builder data-options='{"lists": [...], "attributes": [...], "events": [...]}'>
//     <input type="hidden" name="condition" value='{"all": []}' data-pcb-value>
//     <div data-pcb-root></div>
//   </div>
// Every builder on the page (and any added later, e.g. by an htmx swap) mounts itself. Each
// edit rewrites the hidden input and fires a bubbling "change" on it, so forms and htmx
// triggers (hx-trigger="change") see it. No dependencies, no build step.

const ATTRIBUTE_OPS = [
  ["eq", "is"], ["ne", "is not"], ["contains", "contains"], ["starts_with", "starts with"],
  ["in", "is one of"], ["gt", "is more than"], ["gte", "is at least"], ["lt", "is less than"],
  ["lte", "is at most"], ["exists", "is set"], ["not_exists", "is not set"],
  ["before", "is before"], ["after", "is after"],
  ["within_last_days", "is within the last"], ["older_than_days", "is more than"],
];
const NUMBER_OPS = new Set(["gt", "gte", "lt", "lte"]);
const DAYS_OPS = new Set(["within_last_days", "older_than_days"]);
const NO_VALUE_OPS = new Set(["exists", "not_exists"]);
const EVENT_OPS = [["count_gte", "at least"], ["count_lt", "fewer than"], ["none", "never"]];
const KINDS = [["attribute", "Attribute"], ["event", "Event"], ["list", "List"], ["consent", "Consent"]];
const MODES = [["all", "all"], ["any", "any"], ["none", "none"]];

// --- JSON <-> editable tree -----------------------------------------------------------------

export function fromJSON(raw) {
  const node = toNode(raw);
  return node.type === "group" ? node : { type: "group", mode: "all", children: [node] };
}

function toNode(raw) {
  if (!raw || typeof raw !== "object") return { type: "group", mode: "all", children: [] };
  if (Array.isArray(raw.all)) return { type: "group", mode: "all", children: raw.all.map(toNode) };
  if (Array.isArray(raw.any)) return { type: "group", mode: "any", children: raw.any.map(toNode) };
  if (raw.not && typeof raw.not === "object") {
    const inner = raw.not;
    const children = Array.isArray(inner.any) ? inner.any.map(toNode) : [toNode(inner)];
    return { type: "group", mode: "none", children };
  }
  if ("attribute" in raw) {
    return { type: "attribute", attribute: raw.attribute || "", op: raw.op || "eq", value: showValue(raw.value) };
  }
  if ("event" in raw) {
    return {
      type: "event", event: raw.event || "", op: raw.op || "count_gte",
      value: raw.value ?? 1, within_days: raw.within_days ?? "", where: raw.where ?? null,
    };
  }
  if ("list" in raw) return { type: "list", list: raw.list || "", op: raw.op || "member" };
  if ("consent" in raw) return { type: "consent", consent: raw.consent || "email", op: raw.op || "granted" };
  return { type: "group", mode: "all", children: [] };
}

function showValue(value) {
  if (value === null || value === undefined) return "";
  if (Array.isArray(value)) return value.join(", ");
  return String(value);
}

export function toJSON(node) {
  if (node.type === "group") {
    const children = node.children.map(toJSON);
    if (node.mode === "any") return { any: children };
    if (node.mode === "none") return { not: { any: children } };
    return { all: children };
  }
  if (node.type === "attribute") {
    const out = { attribute: node.attribute.trim(), op: node.op };
    if (!NO_VALUE_OPS.has(node.op)) out.value = typedValue(node.op, node.value);
    return out;
  }
  if (node.type === "event") {
    const out = { event: node.event.trim(), op: node.op };
    if (node.op !== "none") out.value = wholeNumber(node.value);
    if (String(node.within_days).trim() !== "") out.within_days = wholeNumber(node.within_days);
    if (node.where) out.where = node.where;
    return out;
  }
  if (node.type === "list") return { list: node.list, op: node.op };
  return { consent: node.consent, op: node.op };
}

function wholeNumber(text) {
  const n = Number(String(text).trim());
  return Number.isInteger(n) ? n : String(text);
}

function typedValue(op, text) {
  const value = String(text ?? "").trim();
  if (NUMBER_OPS.has(op)) return value !== "" && !Number.isNaN(Number(value)) ? Number(value) : value;
  if (DAYS_OPS.has(op)) return wholeNumber(value);
  if (op === "in") return value.split(",").map((part) => part.trim()).filter(Boolean);
  if ((op === "eq" || op === "ne") && (value === "true" || value === "false")) return value === "true";
  return value;
}

// --- rendering --------------------------------------------------------------------------------

function el(tag, attrs = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of [].concat(children)) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

function select(label, options, current, onChange, extra = {}) {
  const node = el("select", { "aria-label": label, ...extra, onchange: (e) => onChange(e.target.value) },
    options.map(([value, text]) => el("option", { value, selected: value === current }, text)));
  return node;
}

function input(label, value, onInput, extra = {}) {
  return el("input", { "aria-label": label, value: value ?? "", ...extra, oninput: (e) => onInput(e.target.value) });
}

class Builder {
  constructor(root) {
    this.root = root;
    this.hidden = root.querySelector("[data-pcb-value]");
    this.mount = root.querySelector("[data-pcb-root]") || root;
    this.options = JSON.parse(root.dataset.options || "{}");
    this.uid = `cb${Math.random().toString(36).slice(2, 8)}`;
    let raw = {};
    try { raw = JSON.parse(this.hidden.value || "{}"); } catch { raw = {}; }
    this.tree = fromJSON(raw);
    this.render();
  }

  changed(rerender = false) {
    this.hidden.value = JSON.stringify(toJSON(this.tree));
    this.hidden.dispatchEvent(new Event("change", { bubbles: true }));
    this.root.dispatchEvent(new CustomEvent("condition-change", { bubbles: true, detail: toJSON(this.tree) }));
    if (rerender) this.render();
  }

  render() {
    const focused = document.activeElement && this.mount.contains(document.activeElement)
      ? document.activeElement.getAttribute("data-pcb-focus") : null;
    this.mount.replaceChildren(this.group(this.tree, null, "0"));
    this.mount.append(this.datalist("attributes", this.options.attributes || []));
    this.mount.append(this.datalist("events", this.options.events || []));
    if (focused) this.mount.querySelector(`[data-pcb-focus="${focused}"]`)?.focus();
  }

  datalist(kind, values) {
    return el("datalist", { id: `${this.uid}-${kind}` }, values.map((v) => el("option", { value: v })));
  }

  group(node, parent, path) {
    const isRoot = parent === null;
    const head = el("div", { class: "pcb-group-head" }, [
      el("span", {}, isRoot ? "Contacts matching" : "Match"),
      select("Match", MODES, node.mode, (mode) => { node.mode = mode; this.changed(); }, { "data-pcb-focus": `${path}-mode` }),
      el("span", {}, "of these rules"),
      isRoot ? null : el("button", { type: "button", class: "pcb-remove", "aria-label": "Remove this group",
        onclick: () => { parent.children.splice(parent.children.indexOf(node), 1); this.changed(true); } }, "×"),
    ]);
    const rows = el("div", { class: "pcb-rows" }, node.children.map((child, i) => (child.type === "group"
      ? this.group(child, node, `${path}.${i}`) : this.rule(child, node, `${path}.${i}`))));
    if (!node.children.length) rows.append(el("p", { class: "pcb-empty muted" }, isRoot ? "No rule yet: every contact matches." : "No rule in this group yet."));
    const add = el("div", { class: "pcb-add" }, [
      el("button", { type: "button", class: "button small", onclick: () => {
        node.children.push({ type: "attribute", attribute: "", op: "eq", value: "" }); this.changed(true);
      } }, "+ Rule"),
      el("button", { type: "button", class: "button small", onclick: () => {
        node.children.push({ type: "group", mode: "any", children: [{ type: "attribute", attribute: "", op: "eq", value: "" }] }); this.changed(true);
      } }, "+ Group"),
    ]);
    return el("div", { class: `pcb-group pcb-${node.mode}`, role: "group", "aria-label": isRoot ? "Condition" : "Group of rules" }, [head, rows, add]);
  }

  rule(node, parent, path) {
    const replaceKind = (kind) => {
      const fresh = toNode(kind === "attribute" ? { attribute: "" } : kind === "event" ? { event: "" }
        : kind === "list" ? { list: (this.options.lists || [])[0]?.key || "" } : { consent: "email" });
      parent.children[parent.children.indexOf(node)] = fresh;
      this.changed(true);
    };
    const parts = [select("Rule type", KINDS, node.type, replaceKind, { class: "pcb-kind", "data-pcb-focus": `${path}-kind` })];
    const set = (key, rerender = false) => (value) => { node[key] = value; this.changed(rerender); };
    const f = (name) => `${path}-${name}`;
    if (node.type === "attribute") {
      parts.push(input("Attribute", node.attribute, set("attribute"), { list: `${this.uid}-attributes`, placeholder: "e.g. city", class: "pcb-name", "data-pcb-focus": f("attribute") }));
      parts.push(select("Test", ATTRIBUTE_OPS, node.op, set("op", true), { "data-pcb-focus": f("op") }));
      if (!NO_VALUE_OPS.has(node.op)) {
        const placeholder = node.op === "in" ? "a, b, c" : (node.op === "before" || node.op === "after") ? "2025-12-31"
          : DAYS_OPS.has(node.op) || NUMBER_OPS.has(node.op) ? "a number" : "value";
        const type = NUMBER_OPS.has(node.op) || DAYS_OPS.has(node.op) ? "number" : (node.op === "before" || node.op === "after") ? "date" : "text";
        parts.push(input("Value", node.value, set("value"), { placeholder, type, class: "pcb-value", "data-pcb-focus": f("value") }));
        if (node.op === "within_last_days") parts.push(el("span", { class: "pcb-unit" }, "days"));
        if (node.op === "older_than_days") parts.push(el("span", { class: "pcb-unit" }, "days ago"));
      }
    } else if (node.type === "event") {
      parts.push(input("Event", node.event, set("event"), { list: `${this.uid}-events`, placeholder: "e.g. purchase", class: "pcb-name", "data-pcb-focus": f("event") }));
      parts.push(el("span", { class: "pcb-unit" }, "happened"));
      parts.push(select("How often", EVENT_OPS, node.op, set("op", true), { "data-pcb-focus": f("op") }));
      if (node.op !== "none") {
        parts.push(input("Times", node.value, set("value"), { type: "number", min: "0", class: "pcb-count", "data-pcb-focus": f("value") }));
        parts.push(el("span", { class: "pcb-unit" }, "times"));
      }
      parts.push(el("span", { class: "pcb-unit" }, "in the last"));
      parts.push(input("Days", node.within_days, set("within_days"), { type: "number", min: "1", placeholder: "any", class: "pcb-count", "data-pcb-focus": f("days") }));
      parts.push(el("span", { class: "pcb-unit" }, "days"));
      if (node.where) parts.push(el("span", { class: "pcb-note muted", title: JSON.stringify(node.where) }, "+ a filter on its details"));
    } else if (node.type === "list") {
      parts.push(select("Membership", [["member", "is in"], ["not_member", "is not in"]], node.op, set("op"), { "data-pcb-focus": f("op") }));
      const lists = (this.options.lists || []).map((l) => [l.key, l.name]);
      if (node.list && !lists.some(([key]) => key === node.list)) lists.push([node.list, node.list]);
      if (!lists.length) lists.push(["", "— no list yet —"]);
      parts.push(select("List", lists, node.list, set("list"), { "data-pcb-focus": f("list") }));
    } else {
      parts.push(select("Channel", [["email", "Email"], ["sms", "SMS"]], node.consent, set("consent"), { "data-pcb-focus": f("channel") }));
      parts.push(el("span", { class: "pcb-unit" }, "consent is"));
      parts.push(select("Consent", [["granted", "granted"], ["not_granted", "not granted"]], node.op, set("op"), { "data-pcb-focus": f("op") }));
    }
    parts.push(el("button", { type: "button", class: "pcb-remove", "aria-label": "Remove this rule",
      onclick: () => { parent.children.splice(parent.children.indexOf(node), 1); this.changed(true); } }, "×"));
    return el("div", { class: `pcb-rule pcb-rule-${node.type}` }, parts);
  }
}

export function mount(root) {
  if (root.__conditionBuilder) return root.__conditionBuilder;
  root.__conditionBuilder = new Builder(root);
  return root.__conditionBuilder;
}

function mountAll(scope = document) {
  scope.querySelectorAll("[data-condition-builder]").forEach(mount);
}

mountAll();
new MutationObserver((records) => {
  for (const record of records) {
    for (const added of record.addedNodes) {
      if (added.nodeType !== 1) continue;
      if (added.matches("[data-condition-builder]")) mount(added);
      mountAll(added);
    }
  }
}).observe(document.documentElement, { childList: true, subtree: true });
