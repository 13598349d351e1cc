// Ghost counters (issue 15): once a simulation's fragment lands in #simulation-result, its
// JSON (<script type="application/json" class="simulation-data">) says, per block, how many
// contacts would enter it and where they would go; each card gets a dashed line under its live
// counters ("≈ 1,234 would enter", and a condition's share of yes and no). Written with
// textContent only; the fragment itself is swapped by htmx (polled every second while running).

import { language, t, tn } from "../i18n.js";

const percent = new Intl.NumberFormat(language, { style: "percent" });

function share(part, whole) {
  return percent.format(whole > 0 ? part / whole : 0);
}

function words(counts) {
  const entered = counts.entered || 0;
  const lines = [tn("≈ %(count)s would enter", "≈ %(count)s would enter", entered)];
  const branched = (counts.yes || 0) + (counts.no || 0);
  if (branched > 0) {
    lines.push(t("yes %(yes)s · no %(no)s", { yes: share(counts.yes || 0, branched), no: share(counts.no || 0, branched) }));
  }
  if (counts.skipped) lines.push(tn("%(count)s not sent", "%(count)s not sent", counts.skipped));
  if (counts.waiting) lines.push(tn("%(count)s still waiting", "%(count)s still waiting", counts.waiting));
  return lines.join(" · ");
}

export function showGhosts(root, data) {
  const nodes = (data && data.nodes) || {};
  const done = data && data.status === "done";
  for (const card of root.querySelectorAll(".node[data-id]")) {
    let line = card.querySelector(".ghost-counter");
    if (!done) {
      if (line) line.remove();
      continue;
    }
    if (!line) {
      line = document.createElement("p");
      line.className = "ghost-counter";
      line.dataset.testid = `ghost-${card.dataset.id}`;
      line.title = t("Simulated: what would have happened, nothing was sent");
      (card.querySelector(".block-counters") || card.querySelector(".node-summary") || card.lastElementChild)?.after(line);
    }
    // Only when it changed: this module watches the editor, its own writes must not loop.
    const text = words(nodes[card.dataset.id] || {});
    if (line.textContent !== text) line.textContent = text;
  }
}

function read(result) {
  const node = result.querySelector("script.simulation-data");
  if (!node) return null;
  try {
    return JSON.parse(node.textContent);
  } catch {
    return null;
  }
}

function start() {
  const editor = document.getElementById("editor");
  if (!editor) return;
  const refresh = () => {
    const result = document.getElementById("simulation-result");
    const data = result && read(result);
    if (data) showGhosts(editor, data);
  };
  // The fragment is replaced on every poll: watch the editor for it, whatever swapped it.
  new MutationObserver(refresh).observe(editor, { childList: true, subtree: true });
  refresh();
}

start();
