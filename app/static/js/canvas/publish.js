// Publishing changes to a live scenario (issue 16). Before a changed draft goes live, the plan
// the server renders (GET /scenarios/{id}/publish-dialog, routes/publish_pages.py) opens in a
// dialog: what changes — the added and changed blocks are marked on the canvas while it is
// open — and, for each block where contacts are parked, whether they stay, move or leave, with
// the consequences said again by the server as the choices change (htmx). "Publish" sends the
// answers as the activation's migration, with the plan's version: a publish made meanwhile by
// someone else is a 409, said in the dialog. No plan (a first activation, an unchanged draft):
// the server answers 204 and the canvas activates as it always did.
// The fragment is server-rendered and escaped; everything written here goes through textContent.

import { t, tn } from "../i18n.js";

const MAX_PER_HOUR = 100000;
const MARKS = { added: "diff-added", changed: "diff-changed" };

function cards(root) {
  return [...root.querySelectorAll(".node[data-id]")];
}

function mark(root, diff) {
  const words = { added: t("New"), changed: t("Changed") };
  for (const card of cards(root)) {
    for (const [kind, name] of Object.entries(MARKS)) {
      if (!(diff[kind] || []).includes(card.dataset.id)) continue;
      card.classList.add(name);
      const tag = document.createElement("span");
      tag.className = `diff-tag ${name}`;
      tag.dataset.testid = `diff-${card.dataset.id}`;
      tag.textContent = words[kind];
      card.append(tag);
    }
  }
}

function unmark(root) {
  for (const card of cards(root)) card.classList.remove(...Object.values(MARKS));
  for (const tag of root.querySelectorAll(".diff-tag")) tag.remove();
}

// The fragment, or null when there is no plan to show (or it could not be had: the
// activation then answers with the reason, as it always did).
async function load(scenarioId) {
  let response;
  try {
    response = await fetch(`/scenarios/${scenarioId}/publish-dialog`, { headers: { Accept: "text/html" } });
  } catch {
    return null;
  }
  if (response.status !== 200) return null;
  const parsed = new DOMParser().parseFromString(await response.text(), "text/html");
  return parsed.body.querySelector(".publish-plan");
}

function readDiff(plan) {
  try {
    return JSON.parse(plan.dataset.diff || "{}");
  } catch {
    return {};
  }
}

// The activation's body from the form, and the names of the blocks contacts move to.
function answers(form) {
  const data = new FormData(form);
  const migration = {};
  const targets = new Set();
  data.getAll("node").forEach((node, index) => {
    const action = data.get(`action-${index}`) || "stay";
    if (action === "move") {
      const select = form.querySelector(`#to-${index}`);
      migration[node] = { action, to: data.get(`to-${index}`) };
      if (select && select.selectedOptions[0]) targets.add(select.selectedOptions[0].textContent);
    } else migration[node] = { action: action === "exit" ? "exit" : "stay" };
  });
  const body = { migration, timers: data.get("timers") === "restart" ? "restart" : "keep" };
  const from = Number(data.get("from_version"));
  if (Number.isInteger(from) && from > 0) body.from_version = from;
  const existing = data.get("existing");
  if (existing === "all") body.include_existing = true;
  if (existing === "ramp") {
    const rate = Number(data.get("ramp_per_hour"));
    if (!Number.isInteger(rate) || rate < 1 || rate > MAX_PER_HOUR) return { problem: t("Give a whole number of contacts per hour, from 1 to %(max)s.", { max: MAX_PER_HOUR }) };
    Object.assign(body, { include_existing: true, ramp_per_hour: rate });
  }
  return { body, targets, held: data.getAll("node").length };
}

// What the toast says once it is live ("Version 2 is live. 21 contacts moved to “Wait 1 day”.").
export function publishedMessage(result, targets, held) {
  const said = [t("Version %(version)s is live.", { version: String(result.version) })];
  const moved = (result.migrated && result.migrated.moved) || 0;
  const exited = (result.migrated && result.migrated.exited) || 0;
  if (moved && targets.size === 1) {
    said.push(tn("%(count)s contact moved to “%(block)s”.", "%(count)s contacts moved to “%(block)s”.", moved, { block: [...targets][0] }));
  } else if (moved) {
    said.push(tn("%(count)s contact moved to the new version.", "%(count)s contacts moved to the new version.", moved));
  }
  if (exited) said.push(tn("%(count)s contact left the scenario.", "%(count)s contacts left the scenario.", exited));
  if (!moved && !exited && held) said.push(t("The contacts already inside finish on their version."));
  const existing = result.existing;
  if (existing && existing.waiting) {
    said.push(tn("%(count)s contact already there waits to enter, %(rate)s per hour.", "%(count)s contacts already there wait to enter, %(rate)s per hour.", existing.waiting, { rate: existing.per_hour }));
  } else if (existing && existing.entered) {
    said.push(tn("%(count)s contact already there entered too.", "%(count)s contacts already there entered too.", existing.entered));
  }
  return said.join(" ");
}

// A refusal in words: a string, a migration's or a draft's problems, or a validation list.
function refusal(detail, status) {
  if (typeof detail === "string") return detail;
  if (detail && typeof detail.message === "string") {
    const problems = (detail.problems || detail.issues || []).map((p) => p.message).filter(Boolean);
    return [detail.message, ...problems].join(" ");
  }
  return t("The scenario could not be published (error %(status)s).", { status: String(status) });
}

function openSimulate(root) {
  const box = root.querySelector(".simulate-box");
  if (!box) return;
  box.open = true;
  box.querySelector('[data-testid="simulate-start"]')?.focus();
}

// Resolves to false when there is no plan (activate as before), null when cancelled, or
// { result, message } once published. ``post(url, json)`` is the canvas's own.
export async function publishChanges({ root, scenarioId, post }) {
  const plan = await load(scenarioId);
  if (!plan) return false;
  return new Promise((resolve) => {
    const dialog = document.createElement("dialog");
    dialog.className = "publish-dialog";
    dialog.dataset.testid = "publish-dialog";
    dialog.setAttribute("aria-labelledby", "publish-title");
    let outcome = null;

    const show = (fresh) => {
      dialog.replaceChildren(fresh);
      if (window.htmx) window.htmx.process(dialog);
      unmark(root);
      mark(root, readDiff(fresh));
    };
    const error = (text) => {
      const slot = dialog.querySelector(".publish-error");
      slot.textContent = text;
      slot.hidden = !text;
    };

    dialog.addEventListener("input", (event) => {
      // Picking a block to move them to, or a pace, picks the choice it belongs to; on
      // "input", before the "change" that sends the choices back.
      const select = event.target.closest(".publish-target");
      if (select) dialog.querySelector(`#${select.id.replace(/^to-/, "action-")}-move`).checked = true;
      if (event.target.matches(".existing-rate")) dialog.querySelector('[name="existing"][value="ramp"]').checked = true;
    });
    dialog.addEventListener("click", async (event) => {
      const button = event.target.closest("[data-publish]");
      if (!button) return;
      const what = button.dataset.publish;
      if (what === "cancel") dialog.close();
      if (what === "simulate") {
        dialog.close();
        openSimulate(root);
      }
      if (what === "again") {
        const fresh = await load(scenarioId);
        if (fresh) show(fresh);
        else window.location.reload(); // what went live meanwhile is the draft: show it as it is
      }
    });
    dialog.addEventListener("submit", async (event) => {
      event.preventDefault();
      const form = event.target;
      const asked = answers(form);
      if (asked.problem) {
        error(asked.problem);
        return;
      }
      const confirm = form.querySelector('[type="submit"]');
      confirm.disabled = true;
      error("");
      let sent;
      try {
        sent = await post(`/scenarios/${scenarioId}/activate`, asked.body);
      } catch {
        error(t("The scenario could not be published. Check your connection and try again."));
        confirm.disabled = false;
        return;
      }
      const { response, body } = sent;
      if (response.ok) {
        outcome = { result: body, message: publishedMessage(body, asked.targets, asked.held) };
        dialog.close();
        return;
      }
      error(refusal(body.detail, response.status));
      // Another version went live since this plan (409), or the contacts moved on meanwhile
      // (a migration's problems): the plan is worth looking at again; a 409 must be.
      const stale = response.status === 409;
      if (stale || (body.detail && body.detail.problems)) form.querySelector('[data-publish="again"]').hidden = false;
      confirm.hidden = stale;
      confirm.disabled = stale;
    });
    dialog.addEventListener("close", () => {
      unmark(root);
      dialog.remove();
      resolve(outcome);
    });

    document.body.append(dialog);
    show(plan);
    dialog.showModal();
    dialog.querySelector("input:checked, button")?.focus();
  });
}
