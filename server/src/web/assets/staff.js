// The staff console: log in, choose a window, operate it. Every change goes through the JSON
// API with the session cookie and the page's CSRF token; the event stream keeps the waiting
// counts live and tells the console when to re-read its window.
(function () {
  "use strict";

  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.content : "";
  var stringsEl = document.getElementById("strings");
  var S = stringsEl ? JSON.parse(stringsEl.textContent) : { errors: {} };
  var msg = document.getElementById("msg");

  function fill(template, values) {
    return String(template).replace(/\{(\w+)\}/g, function (_, k) {
      return values[k] === undefined ? "" : values[k];
    });
  }

  function say(text, kind) {
    if (!msg) return;
    msg.textContent = text || "\u00a0";
    msg.className = "message" + (kind ? " " + kind : "");
  }

  function explain(err) {
    if (!err) return "";
    return (err.code && S.errors && S.errors[err.code]) || err.message || (S.errors && S.errors.network) || "error";
  }

  // One JSON call; rejects with {status, code, message} on an error answer.
  function api(method, path, body) {
    var opts = {
      method: method,
      credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf }
    };
    if (method !== "GET") {
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

  function template(id) {
    var t = document.getElementById(id);
    return t ? t.content.textContent : "";
  }

  // ---- Log in --------------------------------------------------------------------------------
  var loginForm = document.getElementById("login-form");
  if (loginForm) {
    loginForm.addEventListener("submit", function (e) {
      e.preventDefault();
      api("POST", "/api/v1/login", {
        username: document.getElementById("username").value,
        password: document.getElementById("password").value
      }).then(
        function () { location.reload(); },
        function (err) { say(template("msg-" + err.code) || err.message, "error"); }
      );
    });
    return;
  }

  function logout() {
    return api("POST", "/api/v1/logout").then(
      function () { location.reload(); },
      function (err) { say(explain(err), "error"); }
    );
  }

  // ---- My shifts and leave ---------------------------------------------------------------
  // A dialog from the bar (key L), on the window choice and on the console alike: the person's
  // own weekly shift, the form to ask for leave, and their leave with the manager's decision.
  var leaveDialog = document.getElementById("dlg-leave");
  if (leaveDialog) setUpLeave(leaveDialog);

  function setUpLeave(dlg) {
    var D = JSON.parse(document.getElementById("leave-data").textContent);
    var L = JSON.parse(document.getElementById("leave-strings").textContent);
    var $ = function (id) { return document.getElementById(id); };
    var dayFormat = new Intl.DateTimeFormat(L.locale, { timeZone: "UTC", weekday: "short", year: "numeric", month: "short", day: "numeric" });
    function day(d) { return dayFormat.format(new Date(d + "T00:00:00Z")); }
    function addDays(d, n) {
      var t = new Date(d + "T00:00:00Z");
      t.setUTCDate(t.getUTCDate() + n);
      return t.toISOString().slice(0, 10);
    }
    // The date and time `at` in the hall's zone: {date: "YYYY-MM-DD", midnight: bool}.
    var hallParts = new Intl.DateTimeFormat("en-CA", { timeZone: D.tz, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
    function inHall(at) {
      var p = {};
      hallParts.formatToParts(at).forEach(function (x) { p[x.type] = x.value; });
      return { date: p.year + "-" + p.month + "-" + p.day, midnight: p.hour === "00" && p.minute === "00" };
    }
    function today() { return inHall(new Date()).date; }
    // The first whole day that starts at least `n` days from now (the server's rule).
    function firstDayWith(n) {
      var h = inHall(new Date(Date.now() + n * 86400000));
      return h.midnight ? h.date : addDays(h.date, 1);
    }
    function days(l) {
      if (l.start) return fill(L.part, { day: day(l.from), start: l.start, end: l.end });
      if (l.from === l.to) return day(l.from);
      var n = Math.round((new Date(l.to) - new Date(l.from)) / 86400000) + 1;
      return fill(L.range, { from: day(l.from), to: day(l.to), n: n });
    }
    function tell(text, kind) {
      $("lv-msg").textContent = text || "\u00a0";
      $("lv-msg").className = "message" + (kind ? " " + kind : "");
    }
    function explainLeave(err) {
      if (err.code === "notice_too_short") {
        // The server's message carries the branch's notice as it is now.
        var m = /(\d+)/.exec(err.message || "");
        var n = m ? Number(m[1]) : D.notice_days;
        return fill(L.errors.notice_too_short, { n: n, date: day(firstDayWith(n)) });
      }
      if (err.status === 401) return L.errors.unauthorized;
      return L.errors[err.code] || (L.errors.other + (err.message || err.code || err.status));
    }
    function hint() {
      $("lv-hint").textContent = fill(L.hint, { n: D.notice_days, date: day(firstDayWith(D.notice_days)) });
    }

    function showShift(v) {
      var by = {};
      v.weekly.forEach(function (w) { by[w.weekday] = w; });
      var cells = $("my-week").querySelectorAll("tbody td");
      for (var i = 0; i < 7; i++) {
        var w = by[i + 1];
        cells[i].textContent = w ? w.start + "–" + w.end : L.off;
        cells[i].className = w ? "" : "off";
      }
      $("my-week").hidden = v.weekly.length === 0;
      $("my-week-none").hidden = v.weekly.length > 0;
      var ul = $("my-changes");
      ul.textContent = "";
      var t = today();
      v.changes.filter(function (c) { return c.day >= t; }).forEach(function (c) {
        var li = document.createElement("li");
        li.textContent = c.start ? fill(L.dayTimes, { day: day(c.day), start: c.start, end: c.end }) : fill(L.dayOff, { day: day(c.day) });
        ul.appendChild(li);
      });
    }

    function showLeave(list) {
      var body = $("my-leave-list").querySelector("tbody");
      body.textContent = "";
      var line = function (tag, cls, text) {
        var e = document.createElement(tag);
        e.className = cls;
        e.textContent = text;
        return e;
      };
      list.forEach(function (l) {
        var tr = document.createElement("tr");
        tr.dataset.id = String(l.id);
        tr.dataset.state = l.state;
        var what = document.createElement("td");
        what.appendChild(line("div", "leave-days", days(l)));
        what.appendChild(line("div", "leave-what", (L.kinds[l.kind] || l.kind) + (l.reason ? " · " + l.reason : "")));
        tr.appendChild(what);
        var decision = document.createElement("td");
        decision.appendChild(line("span", "leave-state state-" + l.state, L.states[l.state] || l.state));
        if (l.note) decision.appendChild(line("div", "leave-note", l.note));
        // Still asked for, or granted and not begun: the person may take it back.
        if (l.state === "requested" || (l.state === "approved" && l.from > today())) {
          var back = line("button", "withdraw", L.withdraw);
          back.type = "button";
          back.addEventListener("click", function () {
            back.disabled = true;
            api("POST", "/api/v1/leave/" + l.id + "/withdraw").then(function () {
              tell(L.withdrawn, "ok");
              return load();
            }, function (err) { back.disabled = false; tell(explainLeave(err), "error"); });
          });
          decision.appendChild(back);
        }
        tr.appendChild(decision);
        body.appendChild(tr);
      });
      $("my-leave-list").hidden = list.length === 0;
      $("my-leave-none").hidden = list.length > 0;
    }

    // The person's own month: score and grade, the figures that cost points, confirmed records,
    // training. Only their own: the server answers 403 for anyone else's.
    var M = JSON.parse(document.getElementById("month-strings").textContent);
    function item(ul, text, cls) {
      var li = document.createElement("li");
      li.className = cls || "";
      li.textContent = text;
      ul.appendChild(li);
    }
    // Only the answer for the month picked last is shown: an earlier pick's (the dialog's first
    // load, say) may arrive after it.
    var monthAsked = 0;
    function loadMonth() {
      var month = $("my-month-pick").value;
      var asked = ++monthAsked;
      api("GET", "/api/v1/users/" + D.user + "/assessment" + (month ? "?month=" + encodeURIComponent(month) : "")).then(function (r) {
        if (asked !== monthAsked) return;
        var c = r.json, f = c.figures;
        $("my-score").textContent = fill(M.score, { score: c.score.toFixed(1), grade: c.grade });
        var ul = $("my-figures");
        ul.textContent = "";
        ["served", "late", "early", "absent", "complaints_upheld", "bad_ratings"].forEach(function (k) {
          if (k === "served" || f[k]) item(ul, fill(M.figures[k], { n: f[k] }), k === "served" ? "" : "lapse");
        });
        if (c.note) item(ul, fill(M.note, { note: c.note.text }), "note-line");
      }, function () { if (asked === monthAsked) $("my-score").textContent = "—"; });
      api("GET", "/api/v1/users/" + D.user + "/records").then(function (r) {
        var ul = $("my-records");
        ul.textContent = "";
        r.json.forEach(function (x) { item(ul, fill(M.record, { period: x.period, level: x.level, reason: x.reason })); });
        if (!r.json.length) item(ul, M.noRecords, "empty");
      }, function () {});
      api("GET", "/api/v1/users/" + D.user + "/training").then(function (r) {
        var ul = $("my-training");
        ul.textContent = "";
        $("my-training-hours").textContent = fill(M.hours, { n: r.json.hours });
        r.json.sessions.slice(0, 8).forEach(function (x) {
          item(ul, fill(M.training, { day: day(x.day), title: x.title, hours: x.hours, result: M.results[x.result] || x.result }));
        });
        if (!r.json.sessions.length) item(ul, M.noTraining, "empty");
      }, function () {});
    }

    $("my-month-pick").addEventListener("change", loadMonth);

    // The year behind and the year ahead (a request names at most 366 days), newest first.
    function load() {
      loadMonth();
      var t = today();
      api("GET", "/api/v1/users/" + D.user + "/shifts").then(function (r) { showShift(r.json); },
        function (err) { tell(explainLeave(err), "error"); });
      return Promise.all([
        api("GET", "/api/v1/leave?from=" + addDays(t, -366) + "&to=" + t),
        api("GET", "/api/v1/leave?from=" + addDays(t, 1) + "&to=" + addDays(t, 366))
      ]).then(function (rs) {
        var seen = {}, all = [];
        rs.forEach(function (r) {
          (r.json || []).forEach(function (l) {
            if (!seen[l.id]) { seen[l.id] = true; all.push(l); }
          });
        });
        all.sort(function (a, b) { return a.from === b.from ? b.id - a.id : (a.from < b.from ? 1 : -1); });
        showLeave(all);
      }, function (err) { tell(explainLeave(err), "error"); });
    }

    function partDay() {
      var part = $("lv-part").checked;
      $("lv-times").hidden = !part;
      $("lv-to-label").hidden = part;
      $("lv-to").required = !part;
      $("lv-start").required = part;
      $("lv-end").required = part;
    }
    $("lv-part").addEventListener("change", partDay);
    $("lv-from").addEventListener("change", function () {
      var from = $("lv-from").value;
      if (from && (!$("lv-to").value || $("lv-to").value < from)) $("lv-to").value = from;
    });

    var sending = false;
    $("leave-form").addEventListener("submit", function (e) {
      e.preventDefault();
      if (sending) return;
      var part = $("lv-part").checked;
      var body = {
        from: $("lv-from").value,
        to: part ? $("lv-from").value : $("lv-to").value,
        kind: $("lv-kind").value,
        reason: $("lv-reason").value.trim()
      };
      if (part) {
        body.start = $("lv-start").value.trim();
        body.end = $("lv-end").value.trim();
      }
      sending = true;
      $("lv-send").disabled = true;
      tell(L.sending, "info");
      api("POST", "/api/v1/leave", body).then(function () {
        tell(L.asked, "ok");
        ["lv-from", "lv-to", "lv-start", "lv-end", "lv-reason"].forEach(function (id) { $(id).value = ""; });
        return load();
      }, function (err) {
        tell(explainLeave(err), "error");
      }).then(function () {
        sending = false;
        $("lv-send").disabled = false;
      });
    });

    function open() {
      if (dlg.open) return;
      tell("", "");
      hint();
      partDay();
      load();
      dlg.showModal();
    }
    $("my-leave").addEventListener("click", open);
    $("leave-close").addEventListener("click", function () { dlg.close(); });
    // On the console its own key handler presses the button; on the window choice, this one.
    if (!document.getElementById("console")) {
      document.addEventListener("keydown", function (e) {
        if (e.ctrlKey || e.altKey || e.metaKey || dlg.open) return;
        var tag = (e.target.tagName || "").toLowerCase();
        if (tag === "input" || tag === "textarea" || tag === "select") return;
        if (e.key === "l" || e.key === "L") { e.preventDefault(); open(); }
      });
    }
  }

  // ---- Choose a window ---------------------------------------------------------------------
  var console_ = document.getElementById("console");
  if (!console_) {
    document.addEventListener("click", function (e) {
      var b = e.target.closest("button.sign-in");
      if (b) {
        api("POST", "/api/v1/windows/" + b.dataset.window + "/sign-in").then(
          function () { location.reload(); },
          function (err) { say(explain(err), "error"); }
        );
      }
      if (e.target.closest("#logout")) logout();
    });
    return;
  }

  // ---- The console -------------------------------------------------------------------------
  var data = JSON.parse(document.getElementById("console-data").textContent);
  var n = data.window;
  var base = "/api/v1/windows/" + n;
  var serviceNames = {};
  data.services.forEach(function (s) { serviceNames[s.code] = s.name; });
  var view = null; // the last WindowView read
  var busy = false;

  var el = function (id) { return document.getElementById(id); };
  var buttons = {};
  Array.prototype.forEach.call(document.querySelectorAll("button[data-key]"), function (b) {
    buttons[b.id] = b;
  });

  function minutesBetween(a, b) {
    return Math.floor((new Date(b) - new Date(a)) / 60000);
  }

  function clock(t) {
    var d = new Date(t);
    return String(d.getHours()).padStart(2, "0") + ":" + String(d.getMinutes()).padStart(2, "0");
  }

  function render() {
    if (!view) return;
    var cur = view.current && (view.current.status === "called" || view.current.status === "serving") ? view.current : null;
    el("cur-number").textContent = cur ? cur.number : "—";
    el("cur-service").textContent = cur
      ? cur.service + " " + (serviceNames[cur.service] || "") + " · " + (S.status[cur.status] || cur.status) + (cur.priority ? " · " + S.priority : "")
      : S.noTicket;
    if (cur) {
      var m = minutesBetween(cur.issued_at, cur.called_at || new Date());
      var waited = m < 1 ? S.waitedLess : fill(S.waited, { m: m });
      el("cur-detail").textContent = waited + (cur.called_at ? " · " + fill(S.since, { t: clock(cur.called_at) }) : "");
    } else {
      el("cur-detail").textContent = "\u00a0";
    }
    var ext = el("cur-extended");
    if (cur && cur.extended_reason) {
      ext.hidden = false;
      ext.textContent = S.extended + cur.extended_reason;
    } else {
      ext.hidden = true;
    }
    var id = cur && cur.identity;
    var needsCheck = !!(id && id.required && !id.checked);
    el("identity-row").hidden = !id;
    if (id) {
      el("identity-state").textContent = id.checked ? S.identity.checked : (id.required ? S.identity.required : S.identity.optional);
      el("identity-row").classList.toggle("needed", needsCheck);
    }
    var open = view.state === "open";
    var paused = view.state === "paused";
    var pill = el("window-state");
    pill.textContent = (S.window[view.state] || view.state) + (paused && view.pause_reason ? " · " + view.pause_reason : "");
    pill.className = "pill " + view.state;
    var called = cur && cur.status === "called";
    var enable = {
      "call-next": open && !cur,
      complete: !!cur && !needsCheck,
      identity: !!(id && !id.checked),
      recall: !!called,
      start: !!called,
      "no-show": !!called,
      transfer: !!cur,
      extend: !!cur,
      pause: open || paused,
      complaint: true,
      "booking-check-in": true,
      "phone-book": el("pb-service").options.length > 0,
      "desk-ticket": true,
      "sign-out": !cur
    };
    Object.keys(enable).forEach(function (id) {
      if (buttons[id]) buttons[id].disabled = busy || !enable[id];
    });
    buttons["call-next"].classList.toggle("likely", !cur);
    buttons.complete.classList.toggle("likely", !!cur);
    buttons.pause.querySelector(".label").textContent = paused ? S.resume : S.pause;
    renderWaitingButtons();
  }

  function renderWaiting(list) {
    var ol = el("waiting");
    ol.textContent = "";
    list.forEach(function (t) {
      var li = document.createElement("li");
      var num = document.createElement("span");
      num.className = "num";
      num.textContent = t.number;
      var info = document.createElement("span");
      info.className = "info";
      var m = minutesBetween(t.issued_at, new Date());
      info.textContent = (serviceNames[t.service] || t.service) + " · " + (m < 1 ? S.waitingLess : fill(S.waiting, { m: m })) + (t.priority ? " · " + S.priority : "") +
        (t.remote_checked_in === false ? " · " + S.remoteUnchecked : t.remote_checked_in === true ? " · " + S.remoteChecked : "");
      var b = document.createElement("button");
      b.type = "button";
      b.className = "call-one";
      b.dataset.number = t.number;
      b.textContent = S.call;
      li.appendChild(num);
      li.appendChild(info);
      if (t.remote_checked_in === false) {
        // A ticket taken from the phone whose customer is at the counter: staff check it in.
        var c = document.createElement("button");
        c.type = "button";
        c.className = "check-in-one";
        c.dataset.number = t.number;
        c.textContent = S.checkIn;
        li.appendChild(c);
        li.classList.add("unchecked");
      }
      li.appendChild(b);
      ol.appendChild(li);
    });
    el("waiting-empty").hidden = list.length > 0;
    renderWaitingButtons();
  }

  function renderWaitingButtons() {
    var can = view && view.state === "open" && !(view.current && (view.current.status === "called" || view.current.status === "serving"));
    Array.prototype.forEach.call(document.querySelectorAll("button.call-one"), function (b) {
      b.disabled = busy || !can;
    });
  }

  function refresh() {
    return Promise.all([api("GET", base), api("GET", base + "/waiting")]).then(
      function (rs) {
        view = rs[0].json;
        if (view.state === "closed") { location.reload(); return; }
        renderWaiting(rs[1].json || []);
        render();
      },
      function (err) {
        if (err.status === 401) location.reload();
        else say(explain(err), "error");
      }
    );
  }

  var refreshTimer = null;
  function refreshSoon() {
    if (refreshTimer) return;
    refreshTimer = setTimeout(function () { refreshTimer = null; refresh(); }, 150);
  }

  // Runs one action; shows what happened or why it could not.
  function act(name, path, body) {
    if (busy) return Promise.resolve();
    busy = true;
    render();
    return api("POST", base + path, body).then(
      function (r) {
        var t = r.json && r.json.ticket;
        if (r.status === 204) say(S.done.nobody, "info");
        else say(fill(S.done[name] || "", { n: t ? t.number : "" }), "ok");
      },
      function (err) { say(explain(err), "error"); }
    ).then(function () {
      busy = false;
      return refresh();
    });
  }

  function current() {
    return view && view.current ? view.current.number : "";
  }

  function openDialog(id, onOk) {
    var d = el(id);
    d.returnValue = "";
    d.showModal();
    d.onclose = function () {
      if (d.returnValue === "ok") onOk();
    };
  }

  // Follows a desk ticket's print job for up to `tries` seconds: printed, or tell the number.
  function followPrint(id, n, kiosk, tries) {
    setTimeout(function () {
      api("GET", "/api/v1/print-jobs/" + id).then(function (r) {
        if (r.json.state === "printed") {
          say(fill(S.done.deskPrinted, { n: n, kiosk: kiosk }), "ok");
        } else if (r.json.state === "failed" || tries <= 1) {
          say(fill(S.done.deskNotPrinted, { n: n, kiosk: kiosk }), "error");
        } else {
          followPrint(id, n, kiosk, tries - 1);
        }
      }, function () { say(fill(S.done.deskNotPrinted, { n: n, kiosk: kiosk }), "error"); });
    }, 1000);
  }

  var actions = {
    "call-next": function () { act("call-next", "/call-next"); },
    complete: function () { act("complete", "/complete"); },
    identity: function () { act("identity", "/identity"); },
    recall: function () { act("recall", "/recall"); },
    start: function () { act("start", "/start"); },
    "no-show": function () {
      el("noshow-text").textContent = fill(S.confirmNoShow, { n: current() });
      openDialog("dlg-noshow", function () { act("no-show", "/no-show"); });
    },
    transfer: function () {
      var cur = view && view.current;
      var sel = el("transfer-service");
      Array.prototype.forEach.call(sel.options, function (o) { o.disabled = cur && o.value === cur.service; });
      if (sel.selectedOptions[0] && sel.selectedOptions[0].disabled) {
        var firstFree = Array.prototype.find.call(sel.options, function (o) { return !o.disabled; });
        if (firstFree) sel.value = firstFree.value;
      }
      openDialog("dlg-transfer", function () {
        var to = document.querySelector('#dlg-transfer input[name="to"]:checked').value;
        var body = to === "window" ? { window: Number(el("transfer-window").value) } : { service: sel.value };
        act("transfer", "/transfer", body);
      });
    },
    extend: function () {
      el("extend-reason").value = "";
      openDialog("dlg-extend", function () { act("extend", "/extend", { reason: el("extend-reason").value }); });
    },
    pause: function () {
      if (view && view.state === "paused") { act("resume", "/resume"); return; }
      el("pause-reason").value = "";
      openDialog("dlg-pause", function () { act("pause", "/pause", { reason: el("pause-reason").value }); });
    },
    complaint: function () {
      el("complaint-ticket").value = current() || lastTicket || "";
      el("complaint-description").value = "";
      el("complaint-consent").checked = false;
      el("complaint-contact").value = "";
      el("complaint-contact").disabled = true;
      openDialog("dlg-complaint", function () {
        var consent = el("complaint-consent").checked;
        var contact = el("complaint-contact").value.trim();
        api("POST", "/api/v1/complaints", {
          window: n,
          ticket: el("complaint-ticket").value.trim() || null,
          category: el("complaint-category").value,
          description: el("complaint-description").value,
          consent: consent,
          contact: consent && contact ? contact : null
        }).then(
          function (r) {
            var due = new Date(r.json.due_at).toLocaleDateString();
            say(fill(S.done.complaint, { id: r.json.id, due: due }), "ok");
          },
          function (err) { say(explain(err), "error"); }
        );
      });
    },
    "booking-check-in": function () {
      el("bci-code").value = "";
      el("bci-last4").value = "";
      var sel = el("bci-booking");
      sel.textContent = "";
      api("GET", "/api/v1/appointments?day=" + encodeURIComponent(data.today)).then(function (r) {
        (r.json || []).filter(function (b) { return b.state === "booked"; }).forEach(function (b) {
          var o = document.createElement("option");
          o.value = b.service + "|" + b.start;
          o.textContent = hallTime(b.start) + " · " + b.service + " " + (serviceNames[b.service] || "") + (b.mobile ? " · " + b.mobile : "");
          sel.appendChild(o);
        });
      }, function () { /* the code still works */ });
      openDialog("dlg-booking-check-in", function () {
        var code = el("bci-code").value.trim();
        var body;
        if (code) body = { code: code };
        else {
          var parts = sel.value.split("|");
          body = { service: parts[0], start: parts[1], last4: el("bci-last4").value.trim() };
        }
        api("POST", "/api/v1/appointments/check-in", body).then(
          function (r) {
            var t = r.json;
            var reprint = t.appointment && t.appointment.reprint;
            say(fill(reprint ? S.done.bookingReprint : S.done.bookingCheckIn, { n: t.number, time: t.appointment ? t.appointment.time : "" }), "ok");
            refreshSoon();
          },
          function (err) { say(explain(err), "error"); }
        );
      });
    },
    "phone-book": function () {
      el("pb-day").value = data.today;
      el("pb-mobile").value = "";
      loadPhoneSlots();
      openDialog("dlg-phone-book", function () {
        var body = { service: el("pb-service").value, start: el("pb-slot").value, lang: document.documentElement.lang === "en" ? "en" : "zh" };
        var mobile = el("pb-mobile").value.trim();
        if (mobile) body.mobile = mobile;
        api("POST", "/api/v1/appointments", body).then(
          function (r) {
            var b = r.json;
            say(fill(S.done.phoneBook, { day: b.day, time: b.time || hallTime(b.start), code: b.code.replace(/(...)(?=.)/g, "$1 ") }), "ok");
          },
          function (err) { say(explain(err), "error"); }
        );
      });
    },
    "desk-ticket": function () {
      el("dt-priority").checked = false;
      // The branch's kiosks, each a place the ticket can be printed (a kiosk without a printer
      // is listed but cannot be chosen).
      // The list is emptied at once, so a choice is never made from the last opening's list
      // that the fresh one then replaces.
      var select = el("dt-print");
      while (select.options.length > 1) select.remove(1);
      api("GET", "/api/v1/kiosks").then(function (r) {
        var chosen = select.value;
        while (select.options.length > 1) select.remove(1);
        r.json.forEach(function (k) {
          var o = document.createElement("option");
          o.value = String(k.id);
          o.textContent = k.name + (k.printer === "none" ? " " + S.done.kioskNoPrinter : "");
          o.disabled = k.printer === "none";
          select.appendChild(o);
        });
        select.value = chosen;
        if (select.selectedIndex < 0) select.selectedIndex = 0;
      }, function () {});
      openDialog("dlg-desk-ticket", function () {
        var body = { service: el("dt-service").value, priority: el("dt-priority").checked };
        if (select.value) body.print_at = Number(select.value);
        api("POST", "/api/v1/tickets", body).then(
          function (r) {
            var job = r.json.print_job, n = r.json.number;
            refreshSoon();
            if (!job) { say(fill(S.done.deskTicket, { n: n }), "ok"); return; }
            say(fill(S.done.deskPrinting, { n: n, kiosk: job.kiosk }), "ok");
            followPrint(job.id, n, job.kiosk, 15);
          },
          function (err) { say(explain(err), "error"); }
        );
      });
    },
    "sign-out": function () {
      api("POST", base + "/sign-out").then(logout, function (err) { say(explain(err), "error"); });
    }
  };

  // A time in the hall's own zone, HH:MM.
  var hallFormat = new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: data.tz });
  function hallTime(t) { return hallFormat.format(new Date(t)); }

  // The phone booking's free slots of the chosen service and day.
  function loadPhoneSlots() {
    var sel = el("pb-slot");
    sel.textContent = "";
    if (!el("pb-service").value || !el("pb-day").value) return;
    api("GET", "/api/v1/appointments/slots?service=" + encodeURIComponent(el("pb-service").value) + "&day=" + encodeURIComponent(el("pb-day").value)).then(
      function (r) {
        (r.json || []).filter(function (s) { return s.free > 0; }).forEach(function (s) {
          var o = document.createElement("option");
          o.value = s.start;
          o.textContent = hallTime(s.start) + " (" + s.free + ")";
          sel.appendChild(o);
        });
      },
      function (err) { say(explain(err), "error"); }
    );
  }
  el("pb-service").addEventListener("change", loadPhoneSlots);
  el("pb-day").addEventListener("change", loadPhoneSlots);

  el("complaint-consent").addEventListener("change", function (e) {
    el("complaint-contact").disabled = !e.target.checked;
    if (!e.target.checked) el("complaint-contact").value = "";
  });

  // Remember the ticket finished last, for a complaint made just after.
  var lastTicket = "";
  var lastSeen = "";
  setInterval(function () {
    var c = current();
    if (c) lastSeen = c;
    else if (lastSeen) { lastTicket = lastSeen; }
  }, 500);

  Object.keys(actions).forEach(function (id) {
    if (buttons[id]) buttons[id].addEventListener("click", actions[id]);
  });

  el("waiting").addEventListener("click", function (e) {
    var b = e.target.closest("button.call-one");
    if (b) act("call", "/call", { number: b.dataset.number });
    var c = e.target.closest("button.check-in-one");
    if (c && !busy) {
      busy = true;
      api("POST", "/api/v1/remote-tickets/check-in", { code: c.dataset.number }).then(
        function () { say(fill(S.checkedIn, { n: c.dataset.number }), "ok"); },
        function (err) { say(explain(err), "error"); }
      ).then(function () { busy = false; return refresh(); });
    }
  });

  // Keyboard: the letter shown on each button, unless typing in a field or a dialog is open.
  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.altKey || e.metaKey) return;
    var tag = (e.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select" || document.querySelector("dialog[open]")) return;
    var key = e.key.length === 1 ? e.key.toUpperCase() : "";
    var b = document.querySelector('button[data-key="' + key + '"]');
    if (b && !b.disabled) {
      e.preventDefault();
      b.click();
    }
  });

  // ---- Live: the event stream --------------------------------------------------------------
  var seq = null;
  var delay = 1000;
  function setCount(service, waiting) {
    var row = document.querySelector('#counts tr[data-service="' + service + '"] .count');
    if (row) row.textContent = String(waiting);
  }
  // The emergency broadcast, while it stands: above everything on the console.
  function showEmergency(message) {
    var box = el("emergency");
    box.hidden = !message;
    el("emergency-text").textContent = message || "";
  }
  function connect() {
    var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/api/v1/events" + (seq !== null ? "?since=" + seq : "");
    var ws = new WebSocket(url);
    ws.onopen = function () { delay = 1000; };
    ws.onmessage = function (m) {
      var ev;
      try { ev = JSON.parse(m.data); } catch (e) { return; }
      seq = ev.seq;
      switch (ev.type) {
        case "snapshot":
          ev.waiting.forEach(function (w) { setCount(w.service, w.waiting); });
          showEmergency(ev.emergency);
          refreshSoon();
          break;
        case "emergency":
          showEmergency(ev.message);
          break;
        case "issued":
        case "waiting":
          setCount(ev.service, ev.waiting);
          if (data.serves.indexOf(ev.service) >= 0) refreshSoon();
          break;
        case "called":
          setCount(ev.service, ev.waiting);
          refreshSoon();
          break;
        case "cleared":
        case "window":
        case "recalled":
          if (ev.window === n) refreshSoon();
          break;
        default:
          break;
      }
    };
    ws.onclose = function () {
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 15000);
    };
  }

  refresh();
  connect();
  // The waited minutes in the list age without events.
  setInterval(refresh, 60000);
})();
