// The rating pad: ask the server every two seconds which ticket (if any) can be rated at this
// window; show its number and the five choices; send the choice once; say thank you.
(function () {
  "use strict";
  var pad = document.querySelector("main.pad");
  if (!pad) return;
  var n = pad.dataset.window;
  var every = Number(pad.dataset.poll) || 2000;
  var api = "/api/v1/windows/" + n + "/rating";
  var sections = { idle: "idle", ask: "ask", thanks: "thanks" };
  var current = null;      // the number on screen
  var doneWith = null;     // the number just rated (or refused): do not ask again
  var thanksUntil = 0;
  var sending = false;
  var msg = document.getElementById("pad-message");

  function text(id) {
    var t = document.getElementById(id);
    return t ? t.content.textContent : "";
  }

  function show(which) {
    Object.keys(sections).forEach(function (k) {
      document.getElementById(sections[k]).hidden = k !== which;
    });
    pad.dataset.state = which;
  }

  function render(prompt) {
    var t = prompt && prompt.ticket;
    if (Date.now() < thanksUntil) return;
    if (t && t.number !== doneWith) {
      if (current !== t.number) {
        current = t.number;
        document.getElementById("rate-number").textContent = t.number;
        msg.textContent = "";
      }
      show("ask");
    } else {
      current = null;
      show("idle");
    }
  }

  function poll() {
    fetch(api, { cache: "no-store", credentials: "omit" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (p) { if (p) render(p); })
      .catch(function () {})
      .then(function () { setTimeout(poll, every); });
  }

  pad.addEventListener("click", function (e) {
    var b = e.target.closest("button.choice");
    if (!b || sending || !current) return;
    sending = true;
    var number = current;
    fetch(api, {
      method: "POST",
      credentials: "omit",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ number: number, score: Number(b.dataset.score) })
    })
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (body) {
          doneWith = number;
          if (r.status === 201) {
            msg.textContent = "";
            thanksUntil = Date.now() + 6000;
            show("thanks");
          } else if (body && body.error && body.error.code === "already_rated") {
            msg.textContent = text("msg-already");
            show("idle");
          } else {
            msg.textContent = text("msg-gone");
            show("idle");
          }
        });
      })
      .catch(function () { msg.textContent = text("msg-offline"); })
      .then(function () { sending = false; });
  });

  poll();
})();
