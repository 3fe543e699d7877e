// The tracking page: fetch the live part every few seconds and swap it in when it changed.
// Stops once the ticket is finished (done, no-show, cancelled).
(function () {
  "use strict";
  var main = document.querySelector("main.track");
  var live = document.getElementById("live");
  if (!main || !live) return;
  var url = main.dataset.live;
  var every = Number(main.dataset.poll) || 3000;
  var last = live.innerHTML;

  function finished() {
    var t = live.querySelector(".ticket");
    return t && t.dataset.final === "true";
  }

  function poll() {
    if (finished()) return;
    fetch(url, { cache: "no-store", credentials: "omit" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html && html !== last) {
          last = html;
          live.innerHTML = html;
          var t = live.querySelector(".ticket");
          if (t && t.dataset.status === "called" && navigator.vibrate) navigator.vibrate([300, 150, 300]);
        }
      })
      .catch(function () { /* offline for a moment: try again next time */ })
      .then(function () { setTimeout(poll, every); });
  }
  setTimeout(poll, every);
})();
