/*! Parcours website tracking snippet — paste once per page, before </body>:
 *
 *   <script src="https://YOUR-PARCOURS/static/js/parcours-track.js" data-key="site_..." defer></script>
 *
 * Then, anywhere on the page:
 *   parcours.identify("lea@example.com", {first_name: "Léa"})   // on signup or login
 *     (the browser's language is sent too; give {language: "fr"} to choose it yourself)
 *   parcours.cart({cart_id: "c-42", total: 59.9, items: 2})      // cart updated
 *   parcours.purchase({order_id: "o-981", total: 59.9})          // order confirmed
 *   parcours.track("wishlist_added", {sku: "A1"})                // anything else
 * A page visit ("page_view") is sent on load; add data-auto-page="false" to turn that off.
 *
 * Until the visitor is identified, nothing leaves the browser: the last 25 events wait in
 * localStorage and are sent with identify(). Each event carries its own id, so a retry or a
 * double click is stored once. Calls made before the script loaded are replayed if you queue
 * them in `window.parcours = window.parcours || []; parcours.push(["identify", "a@b.c"])`.
 */
(function () {
  "use strict";
  var script = document.currentScript || document.querySelector("script[data-key][src*='parcours-track']");
  if (!script) return;
  var KEY = script.getAttribute("data-key");
  var ENDPOINT = script.getAttribute("data-endpoint") || new URL(script.src, location.href).origin + "/api/track";
  var STORE = "parcours:v1";
  var MAX_PENDING = 25;

  function load() {
    try { return JSON.parse(localStorage.getItem(STORE)) || { email: null, pending: [] }; }
    catch (e) { return { email: null, pending: [] }; }
  }
  function save() { try { localStorage.setItem(STORE, JSON.stringify(state)); } catch (e) { /* private mode */ } }
  var state = load();

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx".replace(/[xy]/g, function (c) {
      var r = (Math.random() * 16) | 0;
      return (c === "x" ? r : (r & 0x3) | 0x8).toString(16);
    });
  }

  function send(payload) {
    var body = JSON.stringify(payload);
    // text/plain keeps this a "simple" request: no CORS preflight, works in sendBeacon.
    if (navigator.sendBeacon && navigator.sendBeacon(ENDPOINT, new Blob([body], { type: "text/plain" }))) return;
    try {
      fetch(ENDPOINT, { method: "POST", body: body, keepalive: true, mode: "no-cors", headers: { "Content-Type": "text/plain" } });
    } catch (e) { /* offline: the event is lost, like any analytics hit */ }
  }

  function track(name, properties) {
    if (!KEY || !name) return;
    var event = { id: uuid(), name: String(name), properties: properties || {}, occurred_at: new Date().toISOString() };
    if (state.email) {
      send({ key: KEY, contact: { email: state.email }, events: [event] });
    } else {
      state.pending.push(event);
      state.pending = state.pending.slice(-MAX_PENDING);
      save();
    }
  }

  function identify(email, traits) {
    if (!KEY || !email) return;
    traits = traits || {};
    state.email = String(email).trim().toLowerCase();
    var contact = { email: state.email };
    if (traits.first_name) contact.first_name = String(traits.first_name);
    if (traits.last_name) contact.last_name = String(traits.last_name);
    // What the visitor reads, for the emails and pages Parcours shows them (fr, en, …).
    var language = traits.language || navigator.language;
    if (language) contact.language = String(language).slice(0, 35);
    send({ key: KEY, contact: contact, identify: true, events: state.pending });
    state.pending = [];
    save();
  }

  var api = {
    track: track,
    identify: identify,
    page: function (extra) {
      var props = { path: location.pathname, title: document.title, referrer: document.referrer || null };
      for (var k in extra || {}) props[k] = extra[k];
      track("page_view", props);
    },
    cart: function (props) { track("cart_updated", props); },
    purchase: function (props) { track("purchase", props); },
    reset: function () { state = { email: null, pending: [] }; save(); }, // on logout
  };

  var queued = Array.isArray(window.parcours) ? window.parcours : [];
  window.parcours = api;
  queued.forEach(function (call) { if (api[call[0]]) api[call[0]].apply(null, call.slice(1)); });
  if (script.getAttribute("data-auto-page") !== "false") api.page();
})();
