// The key of a new list, segment or message follows its name ("Clients fidèles" →
// clients-fideles, or clients-fideles-2 when taken) until the person types a key of their own.
// The server makes the key (/keys/suggest), so there is one slug rule, in app/services/keys.py.
// Delegated on the document: forms that htmx swaps in keep working.

const pending = new WeakMap();

document.addEventListener("input", (event) => {
  const input = event.target;
  if (!(input instanceof HTMLInputElement)) return;
  if (input.dataset.keyFor) {
    // Typed by hand: the name no longer changes it, unless it is emptied again.
    input.dataset.edited = input.value.trim() ? "1" : "";
    return;
  }
  if (input.name !== "name") return;
  const key = input.form?.querySelector("input[data-key-for]");
  if (!key || key.dataset.edited) return;
  clearTimeout(pending.get(key)?.timer);
  const ask = { timer: setTimeout(() => suggest(key, input.value, ask), 250) };
  pending.set(key, ask);
});

async function suggest(key, name, ask) {
  const query = new URLSearchParams({ kind: key.dataset.keyFor, name });
  const response = await fetch(`/keys/suggest?${query}`, { headers: { Accept: "application/json" } });
  if (!response.ok) return;
  const { key: suggested } = await response.json();
  // Only the latest question's answer, and never over a key typed meanwhile.
  if (pending.get(key) === ask && !key.dataset.edited) key.value = suggested;
}
