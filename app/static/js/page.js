// Small behaviours shared by the pages, kept out of the HTML: the Content-Security-Policy
// allows scripts from this server only, so no inline <script> and no onclick="…" attributes.
//
// - form[data-confirm]: asks before submitting (the text comes from an escaped attribute and
//   goes to confirm() as plain text, never through code).
// - select[data-shows-attribute]: on the CSV mapping, the attribute name and kind are shown
//   only for a column that goes to an attribute.
// - [data-events-stay]: its input and change events do not bubble to the form around it (the
//   email preview's width toggle must not re-render the preview).
// - [data-nav-toggle]: on a narrow screen the sidebar is a top bar; its menu button opens and
//   closes the links (Escape closes them too).

document.addEventListener("submit", (event) => {
  const form = event.target.closest("form[data-confirm]");
  if (form && !window.confirm(form.dataset.confirm)) event.preventDefault();
});

document.addEventListener("change", (event) => {
  const select = event.target.closest("select[data-shows-attribute]");
  if (!select) return;
  const attribute = select.closest("tr")?.querySelector(".attr");
  if (attribute) attribute.hidden = select.value !== "attribute";
});

for (const el of document.querySelectorAll("[data-events-stay]")) {
  for (const type of ["input", "change"]) el.addEventListener(type, (event) => event.stopPropagation());
}

function setNavOpen(toggle, open) {
  toggle.setAttribute("aria-expanded", String(open));
  toggle.closest("[data-nav]")?.classList.toggle("nav-open", open);
}

document.addEventListener("click", (event) => {
  const toggle = event.target.closest("[data-nav-toggle]");
  if (toggle) setNavOpen(toggle, toggle.getAttribute("aria-expanded") !== "true");
});

document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  const toggle = document.querySelector('[data-nav-toggle][aria-expanded="true"]');
  if (toggle) {
    setNavOpen(toggle, false);
    toggle.focus();
  }
});
