// CSV mapping: the warning that nobody will get marketing emails shows while no column goes
// to "Email consent", and hides as soon as one does (the server wrote its first state).

const warning = document.querySelector("[data-consent-warning]");

function update() {
  const selects = document.querySelectorAll("select[data-shows-attribute]");
  warning.hidden = [...selects].some((select) => select.value === "email_consent");
}

if (warning) document.addEventListener("change", (event) => {
  if (event.target.closest("select[data-shows-attribute]")) update();
});
