// The tracking page: fetch the live part every few seconds and swap it in when it changed.
// Stops once the ticket is finished (done, no-show, cancelled). The forms below it (a number for
// "your turn is near", the rating, a complaint or suggestion) are shown by the ticket's status;
// every text they show comes from the page (data-* attributes), in the page's language.
(function () {
  "use strict";
  var main = document.querySelector("main.track");
  var live = document.getElementById("live");
  if (!main || !live) return;
  var url = main.dataset.live;
  var id = main.dataset.id;
  var every = Number(main.dataset.poll) || 3000;
  var last = live.innerHTML;

  function ticket() { return live.querySelector(".ticket"); }

  function finished() {
    var t = ticket();
    return t && t.dataset.final === "true";
  }

  // Each form card lists the statuses it belongs to in data-when.
  function sync() {
    var t = ticket();
    var status = t ? t.dataset.status : "";
    document.querySelectorAll(".form-card[data-when]").forEach(function (card) {
      card.hidden = card.dataset.when.split(" ").indexOf(status) < 0;
    });
  }

  function poll() {
    if (finished()) return;
    fetch(url, { cache: "no-store", credentials: "omit" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html && html !== last) {
          last = html;
          live.innerHTML = html;
          sync();
          var t = ticket();
          if (t && t.dataset.status === "called" && navigator.vibrate) navigator.vibrate([300, 150, 300]);
        }
      })
      .catch(function () { /* offline for a moment: try again next time */ })
      .then(function () { setTimeout(poll, every); });
  }

  function $(x) { return document.getElementById(x); }

  function fill(text, values) {
    return text.replace(/\{(\w+)\}/g, function (m, k) { return k in values ? values[k] : m; });
  }

  function day(iso) {
    var d = new Date(iso);
    return isNaN(d) ? iso : d.toLocaleDateString(document.documentElement.lang || undefined,
      { year: "numeric", month: "short", day: "numeric" });
  }

  // POSTs JSON to the ticket's `path`; resolves with [status, body].
  function send(path, method, body) {
    return fetch("/api/v1/tickets/" + encodeURIComponent(id) + path, {
      method: method,
      headers: { "content-type": "application/json" },
      credentials: "omit",
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (r) {
      return r.text().then(function (t) {
        var v = null;
        try { v = t ? JSON.parse(t) : null; } catch (e) { v = null; }
        return [r.status, v];
      });
    });
  }

  function show(el, text) { el.textContent = text; el.hidden = false; }
  function failed(el) { show(el, main.dataset.failed); }

  var notify = $("notify-form");
  if (notify) {
    notify.addEventListener("submit", function (e) {
      e.preventDefault();
      var err = $("notify-error");
      err.hidden = true;
      send("/notify", "POST", { mobile: $("notify-mobile").value, lang: main.dataset.lang })
        .then(function (res) {
          if (res[0] === 200) {
            notify.hidden = true;
            var done = $("notify-done");
            show(done, fill(done.dataset.text, { mobile: res[1].mobile }));
          } else if (res[1] && res[1].error && res[1].error.code === "invalid_mobile") {
            show(err, err.dataset.invalid);
          } else {
            failed(err);
          }
        })
        .catch(function () { failed(err); });
    });
  }

  var rate = $("rate-form");
  if (rate) {
    rate.addEventListener("submit", function (e) {
      e.preventDefault();
      var done = $("rate-done");
      var picked = rate.querySelector("input[name=score]:checked");
      if (!picked) return;
      send("/rating", "POST", {
        score: Number(picked.value),
        comment: $("rate-comment").value,
        contact: $("rate-contact").value,
        consent: $("rate-consent").checked
      }).then(function (res) {
        var code = res[1] && res[1].error && res[1].error.code;
        if (res[0] === 201) {
          rate.hidden = true;
          var f = res[1].follow_up;
          show(done, f ? fill(done.dataset.followup, { date: day(f.due_at) }) : done.dataset.text);
        } else if (code === "already_rated") {
          rate.hidden = true;
          show(done, done.dataset.already);
        } else {
          failed(done);
        }
      }).catch(function () { failed(done); });
    });
  }

  var feedback = $("feedback-form");
  if (feedback) {
    feedback.addEventListener("submit", function (e) {
      e.preventDefault();
      var err = $("feedback-error");
      err.hidden = true;
      var kind = feedback.querySelector("input[name=kind]:checked");
      var contact = $("feedback-contact").value;
      var consent = $("feedback-consent").checked;
      if (contact.trim() && !consent) { show(err, err.dataset.consent); return; }
      send("/feedback", "POST", {
        kind: kind ? kind.value : "complaint",
        category: $("feedback-category").value,
        text: $("feedback-text").value,
        contact: contact,
        consent: consent
      }).then(function (res) {
        if (res[0] === 201) {
          feedback.hidden = true;
          var done = $("feedback-done");
          show(done, fill(done.dataset.text, { id: res[1].id, date: day(res[1].due_at) }));
        } else {
          failed(err);
        }
      }).catch(function () { failed(err); });
    });
  }

  sync();
  setTimeout(poll, every);
})();
