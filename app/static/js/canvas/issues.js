// The list of things to fix (from the last save or a refused activation). Clicking one selects
// its block, brings it into view and opens its settings.

import { t, tn } from "../i18n.js";

// "Block 'x': no email chosen" -> "no email chosen" (the name is shown in bold before it), with
// any spacing before the colon ("Bloc « x » : …").
function withoutName(message, name) {
  if (!name || !message.startsWith(name)) return message;
  const rest = message.slice(name.length).trimStart();
  return rest.startsWith(":") ? rest.slice(1).trimStart() : message;
}

export class IssuesList {
  // labels: how the server's messages name a block ("\u0000" for its id) and the settings.
  constructor({ store, drawer, button, viewport, panel, labels = {} }) {
    Object.assign(this, { store, drawer, button, viewport, panel, labels });
    this.list = drawer.querySelector(".issues-list");
    this.message = drawer.querySelector(".issues-message");
    this.list.addEventListener("click", (event) => {
      const item = event.target.closest("[data-node]");
      if (item && !item.dataset.node && item.dataset.field?.startsWith("settings")) {
        panel.showSettings({ focus: true });
        return;
      }
      if (!item || !item.dataset.node) return;
      const node = store.node(item.dataset.node);
      if (!node) return;
      store.select([node.id]);
      viewport.reveal(node);
      panel.show(node.id, { focus: true });
    });
  }

  // The server names a block by its title ("Block 'Send an email'"), or by its id when it
  // knows no title for its kind.
  blockLabel(id) {
    const node = this.store.node(id);
    const title = node && (this.labels.titles || {})[`${node.type}.${node.kind}`];
    return (this.labels.block || "").split("\u0000").join(title || id);
  }

  render() {
    const issues = this.store.issues;
    const errors = issues.filter((i) => i.severity === "error").length;
    const tips = issues.length - errors;
    const counts = [];
    if (errors) counts.push(tn("%(count)s to fix", "%(count)s to fix", errors));
    if (tips) counts.push(tn("%(count)s tip", "%(count)s tips", tips));
    this.button.querySelector(".issues-count").textContent = counts.length ? counts.join(" · ") : t("Ready");
    this.button.dataset.state = errors ? "error" : issues.length ? "warning" : "ok";
    this.list.innerHTML = "";
    for (const issue of issues) {
      const li = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = `issue ${issue.severity}`;
      button.dataset.node = issue.node || "";
      button.dataset.field = issue.field || "";
      const node = issue.node && this.store.node(issue.node);
      const settings = !issue.node && (issue.field || "").startsWith("settings");
      const name = node ? this.store.info(node)?.name || node.kind : settings ? t("Scenario settings") : t("Whole scenario");
      const label = issue.node ? this.blockLabel(issue.node) : settings ? this.labels.settings || "" : "";
      button.innerHTML = '<span class="issue-dot"></span><span class="issue-text"><strong></strong><span></span></span>';
      button.querySelector("strong").textContent = name;
      const message = withoutName(issue.message, label);
      button.querySelector(".issue-text span").textContent = message.charAt(0).toUpperCase() + message.slice(1);
      li.appendChild(button);
      this.list.appendChild(li);
    }
    if (!issues.length) {
      const li = document.createElement("li");
      li.className = "issues-none";
      li.textContent = t("Nothing to fix: this scenario is ready to go live.");
      this.list.appendChild(li);
    }
  }

  open(message = "") {
    this.message.textContent = message;
    this.message.hidden = !message;
    this.drawer.hidden = false;
    this.button.setAttribute("aria-expanded", "true");
  }

  close() {
    this.drawer.hidden = true;
    this.button.setAttribute("aria-expanded", "false");
  }

  toggle() {
    if (this.drawer.hidden) this.open();
    else this.close();
  }
}
