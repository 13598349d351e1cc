// The page's words for the ES modules: the JSON catalog the server embeds in every page
// (<script type="application/json" id="i18n-catalog">), so there is nothing to build or fetch.
// t("Save") and tn("%(count)s contact", "%(count)s contacts", n) are what `make i18n` extracts.

const data = readCatalog();
export const language = data.language || "en";
const messages = data.messages || {};
const numbers = new Intl.NumberFormat(language);

function readCatalog() {
  const node = document.getElementById("i18n-catalog");
  try {
    return node ? JSON.parse(node.textContent) : {};
  } catch {
    return {};
  }
}

function fill(text, args) {
  if (!args) return text;
  return text.replace(/%\((\w+)\)s/g, (whole, name) => {
    if (!(name in args)) return whole;
    const value = args[name];
    return typeof value === "number" ? numbers.format(value) : String(value);
  });
}

// CLDR's plural forms, in the order the catalogs hold them.
function pluralIndex(n) {
  if (language === "fr") {
    if (n === 0 || n === 1) return 0;
    return n !== 0 && n % 1000000 === 0 ? 1 : 2;
  }
  return n === 1 ? 0 : 1;
}

export function t(msgid, args) {
  const found = messages[msgid];
  return fill(typeof found === "string" && found ? found : msgid, args);
}

export function tn(singular, plural, n, args) {
  const forms = messages[singular];
  let text = n === 1 ? singular : plural;
  if (Array.isArray(forms) && forms.length) text = forms[Math.min(pluralIndex(n), forms.length - 1)];
  return fill(text, { count: n, ...args });
}

export function formatNumber(value) {
  return numbers.format(value);
}
