// The public hall page: "take a ticket from your phone". The browser keeps a random key of its
// own (one live remote ticket per browser); the ticket's tracking page opens on success. Every
// text comes from the page (data-* attributes), in the page's language.
(function () {
  "use strict";
  var card = document.getElementById("remote");
  var form = document.getElementById("remote-form");
  if (!card || !form) return;
  var err = document.getElementById("remote-error");

  function browserKey() {
    var k = null;
    try { k = localStorage.getItem("qhall-browser"); } catch (e) { k = null; }
    if (!k) {
      var bytes = new Uint8Array(16);
      crypto.getRandomValues(bytes);
      k = Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
      try { localStorage.setItem("qhall-browser", k); } catch (e) { /* private mode: a key per visit */ }
    }
    return k;
  }

  function show(text) { err.textContent = text; err.hidden = false; }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    err.hidden = true;
    var button = document.getElementById("remote-take");
    button.disabled = true;
    fetch("/api/v1/remote-tickets", {
      method: "POST",
      headers: { "content-type": "application/json" },
      credentials: "omit",
      body: JSON.stringify({
        branch: Number(card.dataset.branch),
        service: document.getElementById("remote-service").value,
        mobile: document.getElementById("remote-mobile").value,
        lang: card.dataset.lang,
        browser: browserKey()
      })
    }).then(function (r) {
      return r.json().then(function (v) { return [r.status, v]; }, function () { return [r.status, null]; });
    }).then(function (res) {
      button.disabled = false;
      var code = res[1] && res[1].error && res[1].error.code;
      if (res[0] === 201) {
        location.href = "/t/" + encodeURIComponent(res[1].id) + "?lang=" + encodeURIComponent(card.dataset.lang);
      } else if (code === "invalid_mobile") {
        show(card.dataset.invalid);
      } else if (code === "remote_ticket_live") {
        show(card.dataset.live);
      } else if (code === "remote_full") {
        show(card.dataset.full);
      } else if (res[0] === 429) {
        show(card.dataset.busy);
      } else {
        show(card.dataset.failed + (res[1] && res[1].error ? " (" + res[1].error.message + ")" : ""));
      }
    }).catch(function () { button.disabled = false; show(card.dataset.failed); });
  });
})();
