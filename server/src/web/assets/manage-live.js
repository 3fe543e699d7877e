// /manage: fills the live page from GET /api/v1/live; fetches again when the event stream
// reports a change (and every 15 s, for kiosks and boards, which send no events); ages the
// wait clocks every second in between. Rows are updated in place so nothing jumps.
(function () {
  "use strict";
  var Q = window.Qhall;
  var S = JSON.parse(document.getElementById("live-strings").textContent);
  var data = null;
  var skew = 0; // server clock minus this browser's clock, in ms
  var online = false;
  var fetching = false;
  var again = false;
  var edited = false; // the thresholds form has unsaved input

  function $(id) { return document.getElementById(id); }
  function name(loc) { return (loc && (loc[Q.lang] || loc.zh || loc.en)) || ""; }
  function serverNow() { return Date.now() + skew; }
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  // 754 s -> "12:34"; an hour or more -> "1:02:34".
  function clock(secs) {
    secs = Math.max(0, Math.floor(secs));
    var h = Math.floor(secs / 3600), m = Math.floor((secs % 3600) / 60), s = secs % 60;
    return h > 0 ? h + ":" + pad(m) + ":" + pad(s) : m + ":" + pad(s);
  }
  function minutes(secs) {
    if (secs < 60) return S.lessMinute;
    return Q.fill(S.minutes, { m: Math.round(secs / 60) });
  }
  function hhmmss(d) { return pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds()); }
  function since(iso) { return (serverNow() - Date.parse(iso)) / 1000; }
  function serviceName(code) {
    var s = data && data.services.find(function (x) { return x.service === code; });
    return code + " " + (s ? name(s.name) : "");
  }

  // The row of `tbody` whose data-key is `key`, created with `cells` empty cells if missing.
  function row(tbody, key, classes) {
    var tr = tbody.querySelector('tr[data-key="' + key + '"]');
    if (!tr) {
      tr = Q.el("tr", { "data-key": key });
      classes.forEach(function (c) { tr.appendChild(Q.el("td", { class: c })); });
      tbody.appendChild(tr);
    }
    return tr;
  }
  function prune(tbody, keys) {
    Array.prototype.slice.call(tbody.rows).forEach(function (tr) {
      if (keys.indexOf(tr.getAttribute("data-key")) < 0) tr.remove();
    });
  }
  function setText(el, t) { if (el.textContent !== t) el.textContent = t; }

  function renderServices() {
    var tbody = $("services").tBodies[0];
    var keys = [];
    data.services.forEach(function (s) {
      keys.push(s.service);
      var tr = row(tbody, s.service, ["svc", "num waiting", "wait", "num estimate", "num open", "num booked"]);
      tr.setAttribute("data-service", s.service);
      var c = tr.cells;
      if (!c[0].firstChild) {
        c[0].appendChild(Q.el("span", { class: "code" }, s.service));
        c[0].appendChild(Q.el("span", { class: "svc-name" }, name(s.name)));
        var bar = Q.el("div", { class: "wait-bar", role: "img" });
        bar.appendChild(Q.el("span", { class: "fill" }));
        bar.appendChild(Q.el("span", { class: "target" }));
        var wrap = Q.el("div", { class: "wait-wrap" });
        wrap.appendChild(bar);
        wrap.appendChild(Q.el("span", { class: "wait-text" }));
        c[2].appendChild(wrap);
      }
      setText(c[1], String(s.waiting));
      setText(c[3], s.waiting > 0 || s.estimate_secs > 0 ? minutes(s.estimate_secs) : S.none);
      setText(c[4], String(s.open_windows));
      c[4].className = "num open" + (s.open_windows === 0 && s.waiting > 0 ? " level-bad" : "");
      setText(c[5], s.booked_next_hour || s.appointments_waiting ? s.booked_next_hour + " / " + s.appointments_waiting : "–");
    });
    prune(tbody, keys);
    tickServices();
  }

  // The wait clocks, bars and colours, from the oldest issue times and the server's clock.
  function tickServices() {
    if (!data) return;
    var tbody = $("services").tBodies[0];
    data.services.forEach(function (s) {
      var tr = tbody.querySelector('tr[data-key="' + s.service + '"]');
      if (!tr) return;
      var wait = s.oldest_issued_at ? since(s.oldest_issued_at) : null;
      var target = s.target_wait_secs;
      var level = "ok";
      if (wait !== null && wait > target) level = "over";
      else if (wait !== null && wait * 100 >= target * data.settings.warn_percent) level = "warn";
      tr.className = "level-row-" + level;
      var bar = tr.querySelector(".wait-bar");
      var scale = target * 1.25; // the target line sits at 80 % of the bar
      var pct = wait === null ? 0 : Math.min(100, (wait / scale) * 100);
      bar.querySelector(".fill").style.width = pct.toFixed(1) + "%";
      bar.className = "wait-bar " + level;
      var label = (wait === null ? S.none : clock(wait)) + " / " + clock(target);
      bar.setAttribute("aria-label", label + " · " + S.level[level]);
      var t = tr.querySelector(".wait-text");
      setText(t, label);
      t.className = "wait-text" + (level === "over" ? " level-bad" : level === "warn" ? " level-warn" : "");
    });
  }

  function renderWindows() {
    var tbody = $("windows").tBodies[0];
    var keys = [];
    data.windows.forEach(function (w) {
      var key = String(w.window);
      keys.push(key);
      var tr = row(tbody, key, ["win", "state", "staff", "current", "num idle"]);
      tr.setAttribute("data-window", key);
      var c = tr.cells;
      setText(c[0], w.name || key);
      var st = S.state[w.state] + (w.state === "paused" && w.pause_reason ? " · " + w.pause_reason : "");
      setText(c[1], st);
      c[1].className = "state state-" + w.state;
      setText(c[2], w.staff || S.none);
      setText(c[3], w.current ? w.current.number + " · " + S.ticket[w.current.status] : S.none);
      c[3].className = "current" + (w.current ? " has-ticket" : "");
      tr.className = w.state === "open" ? "" : "dim";
    });
    prune(tbody, keys);
    tickWindows();
  }

  function tickWindows() {
    if (!data) return;
    var tbody = $("windows").tBodies[0];
    var age = (serverNow() - Date.parse(data.now)) / 1000;
    data.windows.forEach(function (w) {
      var tr = tbody.querySelector('tr[data-key="' + w.window + '"]');
      if (!tr) return;
      var idle = w.idle_secs === null || w.idle_secs === undefined ? null : w.idle_secs + age;
      setText(tr.cells[4], idle === null ? S.none : clock(idle));
      tr.cells[4].className = "num idle" + (idle !== null && idle >= 600 ? " level-warn" : "");
    });
  }

  function renderDevices() {
    var tbody = $("devices").tBodies[0];
    var keys = [];
    data.devices.forEach(function (d) {
      var key = String(d.id);
      keys.push(key);
      var tr = row(tbody, key, ["dev", "printer", "seen"]);
      var c = tr.cells;
      setText(c[0], d.name + " · " + (S.role[d.role] || d.role));
      var p = d.role === "kiosk" ? (S.printer[d.printer_state || "unknown"] || d.printer_state) : S.none;
      if (d.printer_detail && d.printer_state !== "ok") p += " · " + d.printer_detail;
      setText(c[1], p);
      var bad = ["no_paper", "offline", "error"].indexOf(d.printer_state) >= 0;
      c[1].className = "printer" + (bad ? " level-bad" : "");
      setText(c[2], d.last_seen_at ? Q.fill(S.ago, { t: minutes(since(d.last_seen_at)) }) : S.never);
    });
    prune(tbody, keys);
  }

  function alertText(a) {
    var t;
    switch (a.kind) {
      case "over_target":
      case "about_to_miss":
        t = Q.fill(S.alert[a.kind], { service: serviceName(a.service), wait: minutes(a.longest_wait_secs), target: minutes(a.target_wait_secs) });
        break;
      case "open_window":
        t = Q.fill(S.alert.open_window, { service: serviceName(a.service), waiting: a.waiting, open: a.open_windows });
        break;
      case "complaints_overdue":
        return Q.fill(S.alert.complaints_overdue, { n: a.count });
      case "printer":
        return Q.fill(S.alert.printer, { device: a.device, state: S.printer[a.printer_state] || a.printer_state });
      default:
        return a.kind;
    }
    var sep = Q.lang === "zh" ? "" : " ";
    if (!a.suggest_window) return t + sep + S.alert.no_suggest;
    var w = data.windows.find(function (x) { return x.window === a.suggest_window; });
    var how = w && w.state === "paused" ? S.alert.resume : S.alert.suggest;
    return t + sep + Q.fill(how, { w: a.suggest_window });
  }

  function renderAlerts() {
    var box = $("alerts");
    box.textContent = "";
    if (data.alerts.length === 0) {
      box.appendChild(Q.el("p", { class: "alert none" }, S.alert.none));
      return;
    }
    var ul = Q.el("ul");
    data.alerts.forEach(function (a) {
      var sev = a.kind === "about_to_miss" || a.kind === "complaints_overdue" ? "warn" : "bad";
      var li = Q.el("li", { class: "alert " + sev, "data-kind": a.kind });
      li.appendChild(Q.el("span", { class: "alert-text" }, alertText(a)));
      if (a.kind === "complaints_overdue") {
        li.appendChild(document.createTextNode(" "));
        li.appendChild(Q.el("a", { href: "/manage/complaints" }, S.alert.complaints_link));
      }
      ul.appendChild(li);
    });
    box.appendChild(ul);
  }

  function renderThresholds() {
    setText($("thresholds-summary"), Q.fill(S.thresholds, { p: data.settings.warn_percent, n: data.settings.per_window }));
    // Not while the manager is typing new values.
    if (!edited) {
      $("warn-percent").value = data.settings.warn_percent;
      $("per-window").value = data.settings.per_window;
    }
  }

  function status() {
    if (!data) return;
    var t = hhmmss(new Date(Date.parse(data.now)));
    var el = $("status");
    setText(el, Q.fill(online ? S.live : S.offline, { t: t }));
    el.className = "live-status" + (online ? " online" : " offline");
  }

  function load() {
    if (fetching) { again = true; return; }
    fetching = true;
    Q.api("GET", "/api/v1/live").then(function (r) {
      data = r.json;
      skew = Date.parse(data.now) - Date.now();
      renderAlerts();
      renderServices();
      renderWindows();
      renderDevices();
      renderThresholds();
      status();
    }, function (e) {
      if (e.status === 401) location.reload();
    }).then(function () {
      fetching = false;
      if (again) { again = false; load(); }
    });
  }

  // Any change on the stream (a ticket, a call, a window) means the figures moved.
  var pending = null;
  function soon() {
    if (pending) return;
    pending = setTimeout(function () { pending = null; load(); }, 250);
  }
  function connect() {
    var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/api/v1/events";
    var ws;
    try { ws = new WebSocket(url); } catch (e) { setTimeout(connect, 3000); return; }
    ws.onopen = function () { online = true; status(); load(); };
    ws.onmessage = function () { soon(); };
    ws.onclose = function () { online = false; status(); setTimeout(connect, 3000); };
  }

  $("thresholds-form").addEventListener("input", function () { edited = true; });
  $("thresholds-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var msg = $("thresholds-msg");
    msg.textContent = "";
    Q.api("PUT", "/api/v1/live/alerts", {
      warn_percent: Number($("warn-percent").value),
      per_window: Number($("per-window").value)
    }).then(function () {
      msg.textContent = S.saved;
      msg.className = "message ok";
      edited = false;
      load();
    }, function (err) {
      msg.textContent = S.errors[err.code] || err.message || S.errors.network;
      msg.className = "message bad";
    });
  });

  load();
  connect();
  setInterval(function () { tickServices(); tickWindows(); }, 1000);
  setInterval(load, 15000);
})();
