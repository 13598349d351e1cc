// Live block counters: one Server-Sent Events stream per tab (GET /scenarios/{id}/live),
// closed while the tab is hidden and reopened (with a fresh snapshot) when it shows again.
// Each update carries, per block, its counters as HTML (server-rendered from
// _live_counters.html) for every `.block-counters[data-node]`, and, per link, a label:
// `text[data-edge="from|port|to"]` on the statistics page, or the canvas's
// `g.link[data-key]` (a label is added at the middle of the link). The counters are one
// version's: the statistics page names it in `data-live-src`; the canvas follows the live
// version, or the published version it shows read-only (`#editor[data-readonly]`).
// Older versions still holding contacts come as words (`still_on`, server-rendered) for
// `[data-live-still-on]`.

const SVG = "http://www.w3.org/2000/svg";

function streamUrl() {
  const own = document.querySelector("[data-live-src]");
  if (own) return own.dataset.liveSrc;
  const editor = document.querySelector("#editor[data-scenario]");
  if (!editor) return null;
  const version = editor.dataset.readonly;
  const only = version && /^\d+$/.test(version) ? `?version=${version}` : "";
  return `/scenarios/${editor.dataset.scenario}/live${only}`;
}

// Where the words about older versions go: the page's own slot, or on the canvas one made
// over its top-left corner (the editor's bar has no room left).
function stillOnSlots() {
  const slots = [...document.querySelectorAll("[data-live-still-on]")];
  const canvas = document.querySelector("#editor .canvas");
  if (!slots.length && canvas) {
    const slot = document.createElement("div");
    slot.className = "still-on-slot";
    slot.dataset.liveStillOn = "";
    canvas.appendChild(slot);
    slots.push(slot);
  }
  return slots;
}

function canvasLabel(link) {
  let label = link.querySelector("text.live-edge-label");
  if (!label) {
    label = document.createElementNS(SVG, "text");
    label.setAttribute("class", "live-edge-label");
    label.setAttribute("text-anchor", "middle");
    link.appendChild(label);
  }
  const line = link.querySelector(".link-line");
  if (line && line.getTotalLength) {
    const length = line.getTotalLength();
    if (length > 0) {
      const mid = line.getPointAtLength(length / 2);
      label.setAttribute("x", mid.x.toFixed(1));
      label.setAttribute("y", (mid.y - 6).toFixed(1));
    }
  }
  return label;
}

export function apply(data) {
  for (const [node, entry] of Object.entries(data.nodes || {})) {
    for (const slot of document.querySelectorAll(`.block-counters[data-node="${CSS.escape(node)}"]`)) {
      if (slot.innerHTML !== entry.html) slot.innerHTML = entry.html;
      slot.dataset.entered = entry.counts.entered;
    }
  }
  for (const [key, edge] of Object.entries(data.edges || {})) {
    const selector = CSS.escape(key);
    for (const text of document.querySelectorAll(`text[data-edge="${selector}"]`)) {
      text.textContent = edge.label;
    }
    for (const link of document.querySelectorAll(`g.link[data-key="${selector}"]`)) {
      canvasLabel(link).textContent = edge.label;
    }
  }
  if (typeof data.still_on === "string") {
    for (const slot of stillOnSlots()) {
      if (slot.innerHTML !== data.still_on) slot.innerHTML = data.still_on;
    }
  }
  document.dispatchEvent(new CustomEvent("parcours:live", { detail: data }));
}

function start() {
  const url = streamUrl();
  if (!url || window.__parcoursLive) return; // one stream per tab
  const live = { source: null };
  window.__parcoursLive = live;

  const open = () => {
    if (live.source || document.visibilityState === "hidden") return;
    live.source = new EventSource(url);
    live.source.addEventListener("counters", (event) => apply(JSON.parse(event.data)));
    document.documentElement.dataset.live = "on";
  };
  const close = () => {
    if (!live.source) return;
    live.source.close();
    live.source = null;
    document.documentElement.dataset.live = "off";
  };
  document.addEventListener("visibilitychange", () =>
    document.visibilityState === "hidden" ? close() : open(),
  );
  window.addEventListener("pagehide", close);
  open();
}

start();
