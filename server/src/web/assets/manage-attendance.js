// /manage/attendance: one table per day (newest first), a row per person, flags coloured;
// the tolerances form above it; the CSV link follows the chosen days.
(function () {
  "use strict";
  var Q = window.Qhall;
  var S = JSON.parse(document.getElementById("strings").textContent);
  var $ = function (id) { return document.getElementById(id); };

  var hm = new Intl.DateTimeFormat(S.locale, { timeZone: S.tz, hour: "2-digit", minute: "2-digit", hour12: false });
  var dayName = new Intl.DateTimeFormat(S.locale, { timeZone: "UTC", weekday: "long", year: "numeric", month: "long", day: "numeric" });
  function time(iso) { return iso ? hm.format(new Date(iso)) : null; }
  function mins(n) { return Q.fill(S.mins, { n: n }); }

  function explain(err) {
    return S.error[err.code] || (S.error.other + (err.message || err.code || err.status));
  }
  function say(text, kind) {
    $("a-msg").textContent = text;
    $("a-msg").className = "message " + kind;
  }

  function range() {
    return "?from=" + encodeURIComponent($("a-from").value) + "&to=" + encodeURIComponent($("a-to").value);
  }

  function cell(tr, text, cls) {
    tr.appendChild(Q.el("td", cls ? { "class": cls } : {}, text));
  }

  function table(date, rows) {
    var section = Q.el("section", { "class": "card attendance-day", "data-date": date });
    var head = Q.el("h2");
    head.appendChild(Q.el("span", { "class": "day" }, dayName.format(new Date(date + "T00:00:00Z"))));
    // The hall's hours, from a row judged against them (a rostered row carries its own shift).
    var first = rows.filter(function (d) { return !d.rostered; })[0];
    if (first) {
      var hours = first.opens_at ? Q.fill(S.hours, { open: time(first.opens_at), close: time(first.closes_at) })
        : S.aroundTheClock;
      head.appendChild(Q.el("span", { "class": "hours" }, hours));
    }
    section.appendChild(head);
    var t = Q.el("table");
    var tr = Q.el("tr");
    S.head.forEach(function (h, i) { tr.appendChild(Q.el("th", i >= 5 && i <= 7 ? { "class": "num" } : {}, h)); });
    t.appendChild(Q.el("thead")).appendChild(tr);
    var body = t.appendChild(Q.el("tbody"));
    rows.forEach(function (d) {
      var r = Q.el("tr", { "data-user": String(d.user_id), "class": (d.late || d.early || d.long_pause || d.absent) ? "flagged" : "" });
      var who = Q.el("td", { "class": "person" }, d.name);
      // A rostered person is judged against their own shift, not the hours in the heading.
      if (d.rostered) {
        who.appendChild(Q.el("span", { "class": "shift" }, d.opens_at
          ? Q.fill(S.shift, { start: time(d.opens_at), end: time(d.closes_at) }) : S.dayOff));
      }
      r.appendChild(who);
      cell(r, time(d.first_sign_in) || S.none, d.late ? "bad" : "");
      cell(r, d.late_mins ? "+" + mins(d.late_mins) : S.none, d.late ? "bad" : "muted");
      cell(r, time(d.last_sign_out) || (d.first_sign_in ? S.stillIn : S.none), d.early ? "warn" : (d.last_sign_out ? "" : "muted"));
      cell(r, d.early_mins ? "−" + mins(d.early_mins) : S.none, d.early ? "warn" : "muted");
      cell(r, d.first_sign_in ? String(d.pauses) : S.none, "num");
      cell(r, d.pause_total_mins ? mins(d.pause_total_mins) : S.none, "num");
      cell(r, d.pause_longest_mins ? mins(d.pause_longest_mins) : S.none, "num" + (d.long_pause ? " warn" : ""));
      var flags = Q.el("td", { "class": "flags" });
      if (d.late) flags.appendChild(Q.el("span", { "class": "flag flag-late" }, Q.fill(S.late, { n: d.late_mins })));
      if (d.early) flags.appendChild(Q.el("span", { "class": "flag flag-early" }, Q.fill(S.early, { n: d.early_mins })));
      if (d.long_pause) flags.appendChild(Q.el("span", { "class": "flag flag-pause" }, Q.fill(S.longPause, { n: d.pause_longest_mins })));
      if (d.signed_out_by_closing) flags.appendChild(Q.el("span", { "class": "flag flag-closing" }, S.byClosing));
      if (d.absent) flags.appendChild(Q.el("span", { "class": "flag flag-absent" }, S.absent));
      if (d.on_leave) flags.appendChild(Q.el("span", { "class": "flag flag-leave" }, S.onLeave));
      r.appendChild(flags);
      body.appendChild(r);
    });
    section.appendChild(t);
    return section;
  }

  function load() {
    $("csv").href = "/api/v1/attendance.csv" + range();
    return Q.api("GET", "/api/v1/attendance" + range()).then(function (r) {
      var a = r.json;
      var byDay = {};
      a.days.forEach(function (d) { (byDay[d.date] = byDay[d.date] || []).push(d); });
      var days = $("days");
      days.textContent = "";
      Object.keys(byDay).sort().reverse().forEach(function (date) {
        days.appendChild(table(date, byDay[date]));
      });
      $("none").hidden = a.days.length > 0;
      var count = function (k) { return a.days.filter(function (d) { return d[k]; }).length; };
      $("summary").textContent = Q.fill(S.summary, {
        days: a.days.length, late: count("late"), early: count("early"), pause: count("long_pause"),
        absent: count("absent"), leave: count("on_leave")
      });
      $("summary").classList.toggle("has-overdue", count("late") + count("early") + count("long_pause") + count("absent") > 0);
      fillTolerances(a.tolerances);
    }, function (err) { say(explain(err), "error"); });
  }

  function fillTolerances(t) {
    $("t-late").value = t.late_after_mins;
    $("t-early").value = t.early_leave_mins;
    $("t-pause").value = t.long_pause_mins;
  }

  $("range").addEventListener("submit", function (e) { e.preventDefault(); say("", "info"); load(); pendingLeave(); });
  $("tolerances").addEventListener("submit", function (e) {
    e.preventDefault();
    Q.api("PUT", "/api/v1/attendance/settings", {
      late_after_mins: Number($("t-late").value),
      early_leave_mins: Number($("t-early").value),
      long_pause_mins: Number($("t-pause").value)
    }).then(function () {
      return load().then(function () { say(S.saved, "ok"); });
    }, function (err) { say(explain(err), "error"); });
  });

  // Leave still waiting for a decision, the year behind and the year ahead: a link to decide it.
  var today = $("a-to").value;
  function pendingLeave() {
    var t = today;
    var shift = function (d, n) {
      var x = new Date(d + "T00:00:00Z");
      x.setUTCDate(x.getUTCDate() + n);
      return x.toISOString().slice(0, 10);
    };
    Promise.all([
      Q.api("GET", "/api/v1/leave?from=" + shift(t, -366) + "&to=" + t),
      Q.api("GET", "/api/v1/leave?from=" + shift(t, 1) + "&to=" + shift(t, 366))
    ]).then(function (rs) {
      var ids = {};
      rs.forEach(function (r) {
        (r.json || []).forEach(function (l) { if (l.state === "requested") ids[l.id] = true; });
      });
      var n = Object.keys(ids).length;
      $("pending-leave").hidden = n === 0;
      $("pending-leave").textContent = Q.fill(S.pendingLeave, { n: n });
    }, function () { /* the table still shows */ });
  }

  load();
  pendingLeave();
})();
