// Shared by every manager page: the JSON helper `Qhall.api` (session cookie + CSRF token),
// log in and log out. Each page's own script runs after this one and uses `window.Qhall`.
(function () {
  "use strict";

  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.content : "";

  // One JSON call; resolves {status, json}, rejects with {status, code, message}.
  function api(method, path, body) {
    var opts = { method: method, credentials: "same-origin", headers: { "X-CSRF-Token": csrf } };
    if (method !== "GET" && method !== "DELETE") {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body === undefined ? {} : body);
    }
    return fetch(path, opts).then(
      function (r) {
        return r.text().then(function (t) {
          var json = null;
          try { json = t ? JSON.parse(t) : null; } catch (e) { json = null; }
          if (!r.ok) {
            var e = (json && json.error) || {};
            return Promise.reject({ status: r.status, code: e.code, message: e.message });
          }
          return { status: r.status, json: json };
        });
      },
      function () { return Promise.reject({ status: 0, code: "network" }); }
    );
  }

  // `text` with {name} replaced from `values`.
  function fill(text, values) {
    return String(text).replace(/\{(\w+)\}/g, function (_, k) {
      return values[k] === undefined ? "" : values[k];
    });
  }

  // A new element: el("td", {class: "num"}, "12").
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }

  var lang = (document.getElementById("main") || document.documentElement).getAttribute("data-lang") ||
    document.documentElement.lang || "zh";

  window.Qhall = { api: api, fill: fill, el: el, lang: lang, csrf: csrf };

  var form = document.getElementById("login-form");
  if (form) {
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var msg = document.getElementById("msg");
      api("POST", "/api/v1/login", {
        username: document.getElementById("username").value,
        password: document.getElementById("password").value
      }).then(
        function () { location.reload(); },
        function (err) {
          var t = document.getElementById("msg-" + err.code);
          msg.textContent = t ? t.content.textContent : (err.message || "error");
        }
      );
    });
  }

  // Admins: the branch the pages (and this session's API calls) work in.
  var branchSwitch = document.getElementById("branch-switch");
  if (branchSwitch) {
    branchSwitch.addEventListener("change", function () {
      api("PUT", "/api/v1/session/branch", { branch: Number(branchSwitch.value) }).then(
        function () { location.reload(); },
        function () { location.reload(); }
      );
    });
  }

  var logout = document.getElementById("logout");
  if (logout) {
    logout.addEventListener("click", function () {
      api("POST", "/api/v1/logout").then(
        function () { location.reload(); },
        function () { location.reload(); }
      );
    });
  }
})();
