// Activating with the contacts already there (CONTRACTS-2 §C): before a scenario whose trigger
// is a list, a segment or an attribute goes live, the canvas asks whether those who match it
// now enter too — not at all, all at once, or at most N per hour — with their count; and a
// trigger block shows its queue ("1,000 waiting to enter, 100 per hour").
// Built with DOM calls and textContent only: names come from the marketer's data.

import { t, tn } from "../i18n.js";

const MAX_PER_HOUR = 100000;

function question(found) {
  const count = found.count;
  const only = found.sources.length === 1 || new Set(found.sources.map((s) => `${s.kind}:${s.name}`)).size === 1;
  const source = found.sources[0];
  if (only && source.kind === "list") {
    return tn("Also let in the %(count)s contact already in the list “%(name)s”?", "Also let in the %(count)s contacts already in the list “%(name)s”?", count, { name: source.name });
  }
  if (only && source.kind === "segment") {
    return tn("Also let in the %(count)s contact already in the segment “%(name)s”?", "Also let in the %(count)s contacts already in the segment “%(name)s”?", count, { name: source.name });
  }
  if (only && source.kind === "attribute") {
    return tn("Also let in the %(count)s contact whose “%(name)s” already matches?", "Also let in the %(count)s contacts whose “%(name)s” already matches?", count, { name: source.name });
  }
  return tn("Also let in the %(count)s contact who already matches a trigger of this scenario?", "Also let in the %(count)s contacts who already match a trigger of this scenario?", count);
}

function choice(name, value, label, checked) {
  const row = document.createElement("label");
  row.className = "existing-choice";
  const input = document.createElement("input");
  input.type = "radio";
  input.name = name;
  input.value = value;
  input.checked = checked;
  input.dataset.testid = `existing-${value}`;
  row.append(input, " ", label);
  return { row, input };
}

// Resolves to the activation's body ({} for "only new ones"), or null when cancelled.
function ask(found) {
  return new Promise((resolve) => {
    const dialog = document.createElement("dialog");
    dialog.className = "existing-dialog";
    dialog.dataset.testid = "existing-dialog";
    const form = document.createElement("form");
    form.method = "dialog";
    const title = document.createElement("p");
    title.className = "existing-question";
    title.id = "existing-question";
    title.textContent = question(found);
    dialog.setAttribute("aria-labelledby", title.id);
    const none = choice("existing", "none", t("No, only new ones"), false);
    const all = choice("existing", "all", t("Yes, all at once"), true);
    const ramp = choice("existing", "ramp", "", false);
    const rate = document.createElement("input");
    rate.type = "number";
    rate.min = "1";
    rate.max = String(MAX_PER_HOUR);
    rate.step = "1";
    rate.value = String(Math.min(Math.max(Math.ceil(found.count / 10), 1), MAX_PER_HOUR));
    rate.className = "existing-rate";
    rate.dataset.testid = "existing-rate";
    rate.setAttribute("aria-label", t("Contacts per hour"));
    rate.addEventListener("focus", () => (ramp.input.checked = true));
    // "Yes, at most [100] per hour": the words around the field, in the sentence's order.
    const [before, after] = t("Yes, at most %(rate)s per hour").split("%(rate)s");
    ramp.row.append(before || "", rate, after || "");
    const error = document.createElement("p");
    error.className = "existing-error";
    error.hidden = true;
    const buttons = document.createElement("div");
    buttons.className = "existing-buttons";
    const go = document.createElement("button");
    go.type = "submit";
    go.className = "button primary";
    go.dataset.testid = "existing-activate";
    go.textContent = t("Activate");
    const cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "button ghost";
    cancel.textContent = t("Cancel");
    buttons.append(cancel, go);
    form.append(title, none.row, all.row, ramp.row, error, buttons);
    dialog.append(form);
    document.body.append(dialog);

    let answer = null;
    form.addEventListener("submit", (event) => {
      if (ramp.input.checked) {
        const n = Number(rate.value);
        if (!Number.isInteger(n) || n < 1 || n > MAX_PER_HOUR) {
          event.preventDefault();
          error.textContent = t("Give a whole number of contacts per hour, from 1 to %(max)s.", { max: MAX_PER_HOUR });
          error.hidden = false;
          rate.focus();
          return;
        }
        answer = { include_existing: true, ramp_per_hour: n };
      } else if (all.input.checked) answer = { include_existing: true };
      else answer = {};
    });
    cancel.addEventListener("click", () => dialog.close());
    dialog.addEventListener("close", () => {
      dialog.remove();
      resolve(answer);
    });
    dialog.showModal();
    all.input.focus();
  });
}

// What the activation should send: asks first when contacts already there would match.
// Resolves to a body ({} when nobody matches or for "only new ones"), or null when cancelled.
export async function existingChoice(scenarioId) {
  let found;
  try {
    const response = await fetch(`/scenarios/${scenarioId}/existing`, { headers: { Accept: "application/json" } });
    if (!response.ok) return {}; // the activation answers with the reason
    found = await response.json();
  } catch {
    return {};
  }
  if (!found.count) return {};
  return ask(found);
}

// The queue of each trigger block, under its summary; blocks without one show nothing.
export function showQueues(root, queue) {
  for (const card of root.querySelectorAll(".node[data-id]")) {
    const waiting = (queue || {})[card.dataset.id];
    let line = card.querySelector(".entry-queue");
    if (!waiting || !waiting.waiting) {
      if (line) line.remove();
      continue;
    }
    if (!line) {
      line = document.createElement("p");
      line.className = "entry-queue";
      line.dataset.testid = `queue-${card.dataset.id}`;
      card.querySelector(".node-summary")?.after(line);
    }
    line.textContent = waiting.perHour
      ? tn("%(count)s waiting to enter, %(rate)s per hour", "%(count)s waiting to enter, %(rate)s per hour", waiting.waiting, { rate: waiting.perHour })
      : tn("%(count)s waiting to enter", "%(count)s waiting to enter", waiting.waiting);
  }
}

// Reads the queues again (a batch let in moves the live counters): at most one call at a time,
// and none once no block has a queue.
export function followQueues(root, scenarioId) {
  let busy = false;
  document.addEventListener("parcours:live", async () => {
    if (busy || !root.querySelector(".entry-queue")) return;
    busy = true;
    try {
      const response = await fetch(`/scenarios/${scenarioId}/queue`, { headers: { Accept: "application/json" } });
      if (response.ok) showQueues(root, await response.json());
    } catch {
      // the next update tries again
    } finally {
      busy = false;
    }
  });
}
