// /manage/shifts: the leave waiting for a decision (approve / decline with a note), every
// person's weekly shift with an editor for one person at a time (seven days, start and end or
// off, and dated changes), the leave decided, and the branch's notice for leave.
(function () {
  "use strict";
  var Q = window.Qhall;
  var S = JSON.parse(document.getElementById("strings").textContent);
  var D = JSON.parse(document.getElementById("shifts-data").textContent);
  var $ = function (id) { return document.getElementById(id); };

  var dayFormat = new Intl.DateTimeFormat(S.locale, { timeZone: "UTC", weekday: "short", year: "numeric", month: "short", day: "numeric" });
  var stampFormat = new Intl.DateTimeFormat(S.locale, { timeZone: D.tz, year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  function day(d) { return dayFormat.format(new Date(d + "T00:00:00Z")); }
  function stamp(t) { return t ? stampFormat.format(new Date(t)) : S.none; }
  function addDays(d, n) {
    var t = new Date(d + "T00:00:00Z");
    t.setUTCDate(t.getUTCDate() + n);
    return t.toISOString().slice(0, 10);
  }
  function days(l) {
    if (l.start) return Q.fill(S.part, { day: day(l.from), start: l.start, end: l.end });
    if (l.from === l.to) return day(l.from);
    var n = Math.round((new Date(l.to) - new Date(l.from)) / 86400000) + 1;
    return Q.fill(S.range, { from: day(l.from), to: day(l.to), n: n });
  }
  function name(id) { return D.names[String(id)] || ("#" + id); }

  function explain(err) {
    return S.error[err.code] || (S.error.other + (err.message || err.code || err.status));
  }
  function say(where, text, kind) {
    $(where).textContent = text || "";
    $(where).className = "message" + (kind ? " " + kind : "");
  }

  // ---- Leave ----------------------------------------------------------------------------
  var decidedAll = false;
  var leave = [];

  function kindChip(l) { return S.kinds[l.kind] || l.kind; }
  function stateChip(state) {
    return Q.el("span", { "class": "leave-state state-" + state }, S.states[state] || state);
  }

  function pendingRow(l) {
    var tr = Q.el("tr", { "data-id": String(l.id), "data-user": String(l.user_id) });
    tr.appendChild(Q.el("td", { "class": "person" }, name(l.user_id)));
    tr.appendChild(Q.el("td", { "class": "days" }, days(l)));
    tr.appendChild(Q.el("td", {}, kindChip(l)));
    tr.appendChild(Q.el("td", { "class": "reason" }, l.reason || S.none));
    tr.appendChild(Q.el("td", { "class": "when" }, stamp(l.requested_at)));
    var note = Q.el("td");
    note.appendChild(Q.el("input", { "class": "decision-note", type: "text", maxlength: "500", placeholder: S.notePlaceholder, "aria-label": Q.fill(S.noteFor, { name: name(l.user_id) }) }));
    tr.appendChild(note);
    var act = Q.el("td", { "class": "decide" });
    act.appendChild(Q.el("button", { type: "button", "class": "primary approve" }, S.approve));
    act.appendChild(Q.el("button", { type: "button", "class": "decline" }, S.decline));
    tr.appendChild(act);
    return tr;
  }

  function decidedRow(l) {
    var tr = Q.el("tr", { "data-id": String(l.id), "data-state": l.state });
    tr.appendChild(Q.el("td", { "class": "person" }, name(l.user_id)));
    tr.appendChild(Q.el("td", { "class": "days" }, days(l)));
    tr.appendChild(Q.el("td", {}, kindChip(l)));
    tr.appendChild(Q.el("td", { "class": "reason" }, l.reason || S.none));
    tr.appendChild(Q.el("td")).appendChild(stateChip(l.state));
    tr.appendChild(Q.el("td", { "class": "reason" }, l.note || S.none));
    tr.appendChild(Q.el("td", { "class": "when" }, stamp(l.decided_at)));
    return tr;
  }

  function showLeave() {
    // Waiting: soonest first. Decided: the latest decisions first.
    var pending = leave.filter(function (l) { return l.state === "requested"; })
      .sort(function (a, b) { return a.from < b.from ? -1 : a.from > b.from ? 1 : a.id - b.id; });
    var decided = leave.filter(function (l) { return l.state !== "requested"; })
      .sort(function (a, b) { return String(b.decided_at || "").localeCompare(String(a.decided_at || "")) || b.id - a.id; });
    var pb = $("pending").querySelector("tbody");
    // Notes typed on other rows survive a decision that re-reads the list.
    var typed = {};
    Array.prototype.forEach.call(pb.querySelectorAll("tr"), function (tr) {
      typed[tr.dataset.id] = tr.querySelector("input.decision-note").value;
    });
    pb.textContent = "";
    pending.forEach(function (l) {
      var tr = pendingRow(l);
      if (typed[String(l.id)]) tr.querySelector("input.decision-note").value = typed[String(l.id)];
      pb.appendChild(tr);
    });
    $("pending").hidden = pending.length === 0;
    $("pending-none").hidden = pending.length > 0;
    $("summary").textContent = pending.length ? Q.fill(S.summary, { n: pending.length }) : S.summaryNone;
    $("summary").classList.toggle("waiting", pending.length > 0);

    var shown = decidedAll ? decided : decided.slice(0, 20);
    var db = $("decided").querySelector("tbody");
    db.textContent = "";
    shown.forEach(function (l) { db.appendChild(decidedRow(l)); });
    $("decided").hidden = decided.length === 0;
    $("decided-none").hidden = decided.length > 0;
    $("decided-more").hidden = shown.length === decided.length;
    $("decided-more").textContent = Q.fill(S.showAll, { n: decided.length });
  }

  // The year behind and the year ahead (a request names at most 366 days).
  function loadLeave() {
    var t = D.today;
    return Promise.all([
      Q.api("GET", "/api/v1/leave?from=" + addDays(t, -366) + "&to=" + t),
      Q.api("GET", "/api/v1/leave?from=" + addDays(t, 1) + "&to=" + addDays(t, 366))
    ]).then(function (rs) {
      var seen = {};
      leave = [];
      rs.forEach(function (r) {
        (r.json || []).forEach(function (l) {
          if (!seen[l.id]) { seen[l.id] = true; leave.push(l); }
        });
      });
      showLeave();
    }, function (err) { say("s-msg", explain(err), "error"); });
  }

  $("pending").addEventListener("click", function (e) {
    var b = e.target.closest("button.approve, button.decline");
    if (!b) return;
    var tr = b.closest("tr");
    var approve = b.classList.contains("approve");
    var l = leave.filter(function (x) { return String(x.id) === tr.dataset.id; })[0];
    Array.prototype.forEach.call(tr.querySelectorAll("button"), function (x) { x.disabled = true; });
    Q.api("POST", "/api/v1/leave/" + tr.dataset.id + "/decision", {
      approve: approve,
      note: tr.querySelector("input.decision-note").value.trim()
    }).then(function () {
      say("s-msg", Q.fill(approve ? S.approved : S.declined, { name: name(l.user_id), days: days(l) }), "ok");
      return loadLeave();
    }, function (err) {
      say("s-msg", explain(err), "error");
      if (err.code === "leave_decided") return loadLeave();
      Array.prototype.forEach.call(tr.querySelectorAll("button"), function (x) { x.disabled = false; });
    });
  });

  $("decided-more").addEventListener("click", function () { decidedAll = true; showLeave(); });

  $("notice-form").addEventListener("submit", function (e) {
    e.preventDefault();
    Q.api("PUT", "/api/v1/leave/settings", { notice_days: Number($("notice-days").value) }).then(function (r) {
      $("notice-days").value = r.json.notice_days;
      say("s-msg", S.noticeSaved, "ok");
    }, function (err) { say("s-msg", explain(err), "error"); });
  });

  // ---- Shifts ---------------------------------------------------------------------------
  var rosters = {}; // user id → {weekly, changes}
  var editing = null; // the user id in the editor

  function rosterRow(p) {
    var r = rosters[p.id];
    var tr = Q.el("tr", { "data-user": String(p.id) });
    tr.appendChild(Q.el("td", { "class": "person" }, p.name));
    if (!r) {
      tr.appendChild(Q.el("td", { colspan: "8", "class": "muted" }, "…"));
    } else if (r.weekly.length === 0) {
      tr.appendChild(Q.el("td", { colspan: "7", "class": "muted" }, S.noRoster));
    } else {
      var by = {};
      r.weekly.forEach(function (w) { by[w.weekday] = w; });
      for (var d = 1; d <= 7; d++) {
        var w = by[d];
        tr.appendChild(Q.el("td", { "class": w ? "shift" : "off" }, w ? w.start + "–" + w.end : S.off));
      }
    }
    if (r) {
      var ahead = r.changes.filter(function (c) { return c.day >= D.today; });
      var td = Q.el("td", { "class": "ahead" });
      if (ahead.length === 0) td.textContent = S.noChanges;
      ahead.slice(0, 3).forEach(function (c) {
        td.appendChild(Q.el("span", { "class": "change" }, changeText(c)));
      });
      if (ahead.length > 3) td.appendChild(Q.el("span", { "class": "change muted" }, "+" + (ahead.length - 3)));
      tr.appendChild(td);
    }
    var edit = Q.el("td", { "class": "edit" });
    edit.appendChild(Q.el("button", { type: "button", "class": "edit" + (editing === p.id ? " current" : ""), "aria-label": Q.fill(S.editing, { name: p.name }) }, S.edit));
    tr.appendChild(edit);
    return tr;
  }

  function changeText(c) {
    return c.start ? Q.fill(S.dayTimes, { day: day(c.day), start: c.start, end: c.end }) : Q.fill(S.dayOff, { day: day(c.day) });
  }

  function showRosters() {
    var body = $("rosters").querySelector("tbody");
    body.textContent = "";
    D.people.forEach(function (p) { body.appendChild(rosterRow(p)); });
  }

  function loadRosters() {
    return Promise.all(D.people.map(function (p) {
      return Q.api("GET", "/api/v1/users/" + p.id + "/shifts").then(function (r) { rosters[p.id] = r.json; },
        function (err) { say("s-msg", explain(err), "error"); });
    })).then(showRosters);
  }

  function person(id) { return D.people.filter(function (p) { return p.id === id; })[0]; }

  // The editor: the seven days of the weekly pattern and the dated changes of one person.
  function inputs(cls) { return $("weekly-form").querySelectorAll("input." + cls); }
  function fillEditor() {
    var r = rosters[editing];
    var by = {};
    r.weekly.forEach(function (w) { by[w.weekday] = w; });
    for (var d = 1; d <= 7; d++) {
      var w = by[d];
      inputs("works")[d - 1].checked = !!w;
      inputs("start")[d - 1].value = w ? w.start : "";
      inputs("end")[d - 1].value = w ? w.end : "";
      dayEnabled(d);
    }
    var body = $("changes").querySelector("tbody");
    body.textContent = "";
    r.changes.forEach(function (c) {
      var tr = Q.el("tr", { "data-day": c.day, "class": c.day < D.today ? "past" : "" });
      tr.appendChild(Q.el("td", {}, day(c.day)));
      tr.appendChild(Q.el("td", {}, c.start ? c.start + "–" + c.end : S.off));
      var td = Q.el("td");
      td.appendChild(Q.el("button", { type: "button", "class": "small remove" }, S.remove));
      tr.appendChild(td);
      body.appendChild(tr);
    });
    $("changes").hidden = r.changes.length === 0;
    $("changes-none").hidden = r.changes.length > 0;
  }

  function dayEnabled(d) {
    var on = inputs("works")[d - 1].checked;
    [inputs("start")[d - 1], inputs("end")[d - 1]].forEach(function (i) {
      i.disabled = !on;
      i.required = on;
      i.removeAttribute("aria-invalid");
    });
  }

  function openEditor(id) {
    editing = id;
    $("editor").hidden = false;
    $("editor-title").textContent = Q.fill(S.editing, { name: person(id).name });
    say("w-msg", "");
    say("c-msg", "");
    fillEditor();
    showRosters();
    $("editor").scrollIntoView({ block: "nearest" });
  }

  $("rosters").addEventListener("click", function (e) {
    var b = e.target.closest("button.edit");
    if (b) openEditor(Number(b.closest("tr").dataset.user));
  });
  $("w-close").addEventListener("click", function () {
    editing = null;
    $("editor").hidden = true;
    showRosters();
  });

  // Ticking a day on fills its times from the nearest working day, or 09:00–17:00.
  $("weekly-form").addEventListener("change", function (e) {
    if (!e.target.classList.contains("works")) return;
    var d = Number(e.target.dataset.day);
    if (e.target.checked && !inputs("start")[d - 1].value) {
      var from = null;
      for (var k = 1; k < 7 && !from; k++) {
        [d - k, d + k].forEach(function (x) {
          if (!from && x >= 1 && x <= 7 && inputs("works")[x - 1].checked && inputs("start")[x - 1].value) from = x;
        });
      }
      inputs("start")[d - 1].value = from ? inputs("start")[from - 1].value : "09:00";
      inputs("end")[d - 1].value = from ? inputs("end")[from - 1].value : "17:00";
    }
    dayEnabled(d);
  });

  function saveWeekly(weekly, done) {
    var id = editing;
    return Q.api("PUT", "/api/v1/users/" + id + "/shifts", { weekly: weekly }).then(function (r) {
      rosters[id] = r.json;
      fillEditor();
      showRosters();
      say("w-msg", Q.fill(done, { name: person(id).name }), "ok");
    }, function (err) {
      say("w-msg", explain(err), "error");
      if (err.code === "invalid_shift") markBackwards();
    });
  }

  // After the server refused the times: the days whose shift does not end after it starts.
  function markBackwards() {
    for (var d = 1; d <= 7; d++) {
      var s = inputs("start")[d - 1], e = inputs("end")[d - 1];
      if (inputs("works")[d - 1].checked && s.value && e.value && e.value <= s.value) {
        s.setAttribute("aria-invalid", "true");
        e.setAttribute("aria-invalid", "true");
      }
    }
  }

  $("weekly-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var weekly = [];
    for (var d = 1; d <= 7; d++) {
      if (!inputs("works")[d - 1].checked) continue;
      var start = inputs("start")[d - 1].value.trim(), end = inputs("end")[d - 1].value.trim();
      if (!start || !end) {
        say("w-msg", Q.fill(S.error.incomplete_day, { day: S.weekdays[d - 1] }), "error");
        return;
      }
      weekly.push({ weekday: d, start: start, end: end });
    }
    saveWeekly(weekly, S.weeklySaved);
  });
  $("w-clear").addEventListener("click", function () { saveWeekly([], S.weeklyCleared); });

  $("c-off").addEventListener("change", function () {
    var off = $("c-off").checked;
    $("c-start").disabled = off;
    $("c-end").disabled = off;
  });

  $("change-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var id = editing, d = $("c-day").value;
    var off = $("c-off").checked;
    var start = $("c-start").value.trim(), end = $("c-end").value.trim();
    if (!off && (!start || !end)) { say("c-msg", S.error.incomplete_change, "error"); return; }
    var body = off ? { start: null, end: null } : { start: start, end: end };
    Q.api("PUT", "/api/v1/users/" + id + "/shifts/" + d, body).then(function (r) {
      rosters[id] = r.json;
      fillEditor();
      showRosters();
      say("c-msg", Q.fill(S.changeSaved, { day: day(d) }), "ok");
    }, function (err) { say("c-msg", explain(err), "error"); });
  });

  $("changes").addEventListener("click", function (e) {
    var b = e.target.closest("button.remove");
    if (!b) return;
    var id = editing, d = b.closest("tr").dataset.day;
    Q.api("DELETE", "/api/v1/users/" + id + "/shifts/" + d).then(function (r) {
      rosters[id] = r.json;
      fillEditor();
      showRosters();
      say("c-msg", Q.fill(S.changeRemoved, { day: day(d) }), "ok");
    }, function (err) { say("c-msg", explain(err), "error"); });
  });

  loadLeave();
  loadRosters();
})();
