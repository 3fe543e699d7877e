// The rating pad: ask the server every two seconds which ticket (if any) can be rated at this
// window; show its number and the five choices; send the choice once; say thank you.
//
// Every call carries the pad's own token as a bearer header. The token arrives once, in the
// pairing link's fragment (`#pad=TOKEN`, which no request ever carries), and is kept in
// localStorage for this window; without one, the pad says it is not paired and asks nothing.
(function () {
  "use strict";
  var pad = document.querySelector("main.pad");
  if (!pad) return;
  var n = pad.dataset.window;
  var every = Number(pad.dataset.poll) || 2000;
  var api = "/api/v1/windows/" + n + "/rating";
  var sections = { idle: "idle", ask: "ask", thanks: "thanks", unpaired: "unpaired" };
  var storeKey = "qhall-pad-token-" + n;
  var token = pair();
  var stopped = false;
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

  // The token from the pairing link (then removed from the address bar and history), or the
  // one kept from an earlier pairing.
  function pair() {
    var m = /(?:^#|&)pad=([^&]+)/.exec(location.hash || "");
    var t = null;
    if (m) {
      try { t = decodeURIComponent(m[1]); } catch (e) { t = null; }
      history.replaceState(null, "", location.pathname + location.search);
      if (t) {
        try { localStorage.setItem(storeKey, t); } catch (e) { /* private mode: this visit only */ }
      }
    }
    if (!t) {
      try { t = localStorage.getItem(storeKey); } catch (e) { t = null; }
    }
    return t || null;
  }

  function headers(extra) {
    var h = { Authorization: "Bearer " + token };
    Object.keys(extra || {}).forEach(function (k) { h[k] = extra[k]; });
    return h;
  }

  // 401: no such token (revoked): forget it. 403: a pad of another window. Either way the pad
  // stops asking and says so.
  function unpaired(status) {
    stopped = true;
    if (status === 401) {
      try { localStorage.removeItem(storeKey); } catch (e) { /* nothing kept */ }
    }
    document.getElementById("unpaired-other").hidden = status !== 403;
    msg.textContent = "";
    show("unpaired");
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
    if (stopped) return;
    fetch(api, { cache: "no-store", credentials: "omit", headers: headers() })
      .then(function (r) {
        if (r.status === 401 || r.status === 403) { unpaired(r.status); return null; }
        return r.ok ? r.json() : null;
      })
      .then(function (p) { if (p) render(p); })
      .catch(function () {})
      .then(function () { if (!stopped) setTimeout(poll, every); });
  }

  pad.addEventListener("click", function (e) {
    var b = e.target.closest("button.choice");
    if (!b || sending || !current) return;
    sending = true;
    var number = current;
    fetch(api, {
      method: "POST",
      credentials: "omit",
      headers: headers({ "Content-Type": "application/json" }),
      body: JSON.stringify({ number: number, score: Number(b.dataset.score) })
    })
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (body) {
          if (r.status === 401 || r.status === 403) { unpaired(r.status); return; }
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

  if (token) {
    poll();
  } else {
    unpaired(0);
  }
})();
