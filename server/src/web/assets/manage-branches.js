// /manage/branches: an admin creates a branch (POST /api/v1/branches), then the page reloads
// with it in the table and the switcher.
(function () {
  "use strict";
  var Q = window.Qhall;
  var form = document.getElementById("branch-new");
  if (!form) return;
  var msg = form.querySelector(".message");
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var v = function (name) { return form.elements.namedItem(name).value.trim(); };
    Q.api("POST", "/api/v1/branches", {
      name: { zh: v("name_zh"), zh_hant: v("name_zh_hant"), en: v("name_en") },
      time_zone: v("time_zone")
    }).then(
      function () { location.reload(); },
      function (err) { msg.textContent = (err && err.message) || String(err); }
    );
  });
})();
