// The snippet, with the key taken from the address (on a real site: write it in the tag).
var key = new URLSearchParams(location.search).get("key") || "site_paste-your-key";
var tag = document.createElement("script");
tag.src = "/static/js/parcours-track.js";
tag.setAttribute("data-key", key);
document.body.appendChild(tag);
window.parcours = window.parcours || [];

var cart = { cart_id: "cart-" + Math.random().toString(36).slice(2, 8), items: [], total: 0 };
function log(line) { document.getElementById("log").textContent += line + "\n"; }
function call(method) {
  var args = Array.prototype.slice.call(arguments, 1);
  if (Array.isArray(window.parcours)) window.parcours.push([method].concat(args));
  else window.parcours[method].apply(null, args);
  log(method + " " + JSON.stringify(args));
}
document.getElementById("signup").addEventListener("submit", function (e) {
  e.preventDefault();
  var form = new FormData(e.target);
  call("identify", form.get("email"), { first_name: form.get("first_name") });
  call("track", "signup", { source: "tiny-shop" });
});
document.querySelectorAll("[data-sku]").forEach(function (button) {
  button.addEventListener("click", function () {
    cart.items.push(button.dataset.sku);
    cart.total += Number(button.dataset.price);
    document.getElementById("cart").textContent = cart.items.join(", ") + " (" + cart.total + " €)";
    call("cart", { cart_id: cart.cart_id, items: cart.items.length, total: cart.total });
  });
});
document.getElementById("buy").addEventListener("click", function () {
  call("purchase", { order_id: "order-" + Date.now(), cart_id: cart.cart_id, total: cart.total });
});
