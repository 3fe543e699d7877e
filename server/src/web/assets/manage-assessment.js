// /manage/assessment: the month's overview table, the ladder's proposals (confirm / dismiss),
// one printable card per person with the note editor, and the settings and training forms.
(function () {
  "use strict";
  var Q = window.Qhall;
  var S = JSON.parse(document.getElementById("strings").textContent);
  var $ = function (id) { return document.getElementById(id); };
  var MEASURES = Object.keys(S.measures);
  var people = [];

  function explain(err) {
    var known = S.error[err.code];
    if (known && /[:：]\s*$/.test(known)) return known + (err.message || "");
    return known || (S.error.other + (err.message || err.code || err.status));
  }
  function say(text, kind) {
    $("msg").textContent = text;
    $("msg").className = "message no-print " + kind;
  }
  function month() { return $("month").value; }
  function num(v, digits) { return v === null || v === undefined ? S.none : Number(v).toFixed(digits); }
  function duration(secs) {
    if (secs === null || secs === undefined) return S.none;
    var s = Math.round(secs);
    return Q.fill(S.secs, { m: Math.floor(s / 60), s: s % 60 });
  }
  function cell(tr, text, cls) { tr.appendChild(Q.el("td", cls ? { "class": cls } : {}, String(text))); }
  function satisfaction(f) {
    if (!f.ratings) return S.none;
    return num(f.rating_mean, 2) + " (" + f.bad_ratings + "/" + f.ratings + ")";
  }

  function overview(m) {
    var t = $("overview");
    t.textContent = "";
    var tr = Q.el("tr");
    S.head.forEach(function (h, i) { tr.appendChild(Q.el("th", i > 0 ? { "class": "num" } : {}, h)); });
    t.appendChild(Q.el("thead")).appendChild(tr);
    var body = t.appendChild(Q.el("tbody"));
    m.people.forEach(function (c) {
      var f = c.figures;
      var r = Q.el("tr", { "data-user": String(c.user_id) });
      cell(r, c.name, "person");
      cell(r, f.served, "num");
      cell(r, num(f.service_time_ratio, 2), "num");
      cell(r, satisfaction(f), "num" + (f.bad_ratings ? " warn" : ""));
      cell(r, f.complaints_upheld, "num" + (f.complaints_upheld ? " bad" : ""));
      cell(r, f.late, "num" + (f.late ? " bad" : ""));
      cell(r, f.early, "num" + (f.early ? " warn" : ""));
      cell(r, f.absent, "num" + (f.absent ? " bad" : ""));
      cell(r, Q.fill(S.mins, { n: f.pause_mins }), "num");
      cell(r, Q.fill(S.hours, { n: num(f.training_hours, 1) }), "num");
      cell(r, num(c.score, 1), "num score");
      cell(r, c.grade, "num grade");
      body.appendChild(r);
    });
    var mean = m.people.length ? m.people.reduce(function (a, c) { return a + c.score; }, 0) / m.people.length : 0;
    $("summary").textContent = Q.fill(S.summary, { people: m.people.length, mean: num(mean, 1) });
  }

  function proposals(m) {
    var box = $("proposals");
    box.textContent = "";
    var all = [];
    m.people.forEach(function (c) { c.proposals.forEach(function (p) { all.push([c, p]); }); });
    if (!all.length) { box.appendChild(Q.el("p", { "class": "empty" }, S.noProposals)); return; }
    all.forEach(function (cp) {
      var c = cp[0], p = cp[1];
      var row = Q.el("div", { "class": "proposal", "data-user": String(c.user_id), "data-rule": p.rule });
      row.appendChild(Q.el("p", {}, Q.fill(S.proposal, { name: c.name, reason: p.reason })));
      var note = Q.el("input", { type: "text", maxlength: "500", placeholder: S.decisionNote, "class": "decision-note" });
      row.appendChild(note);
      [["confirm", true, "primary"], ["dismiss", false, ""]].forEach(function (b) {
        var btn = Q.el("button", { type: "button", "class": b[2] + " " + b[0] }, S[b[0]]);
        btn.addEventListener("click", function () {
          Q.api("POST", "/api/v1/assessment/decisions", {
            user_id: c.user_id, month: m.period, rule: p.rule, confirm: b[1], note: note.value
          }).then(function () { return load().then(function () { say(S.decided, "ok"); }); },
            function (err) { say(explain(err), "error"); });
        });
        row.appendChild(btn);
      });
      box.appendChild(row);
    });
  }

  function figureRows(f) {
    var rows = [
      ["served", f.served],
      ["service_time_ratio", num(f.service_time_ratio, 2)],
      ["service_secs_mean", duration(f.service_secs_mean)],
      ["rating_mean", f.ratings ? num(f.rating_mean, 2) + " / 5 (" + f.ratings + ")" : S.none],
      ["bad_ratings", f.ratings ? f.bad_ratings + " (" + Math.round(100 * f.bad_rating_share) + "%)" : S.none],
      ["complaints_upheld", f.complaints_upheld],
      ["late", f.late], ["early", f.early], ["absent", f.absent], ["leave_days", f.leave_days],
      ["pause_mins", Q.fill(S.mins, { n: f.pause_mins })], ["long_pauses", f.long_pauses],
      ["identity", f.identity_required ? f.identity_checked + " / " + f.identity_required : S.none],
      ["out_of_order_calls", f.out_of_order_calls], ["extended", f.extended],
      ["training_hours", Q.fill(S.hours, { n: num(f.training_hours, 1) })]
    ];
    var t = Q.el("table", { "class": "figures" });
    var body = t.appendChild(Q.el("tbody"));
    rows.forEach(function (r) {
      var tr = Q.el("tr", { "data-figure": r[0] });
      tr.appendChild(Q.el("th", {}, S.figures[r[0]]));
      cell(tr, r[1], "num");
      body.appendChild(tr);
    });
    return t;
  }

  function card(c) {
    var sec = Q.el("section", { "class": "card scorecard", "data-user": String(c.user_id) });
    sec.appendChild(Q.el("h2", {}, Q.fill(S.card, { name: c.name, period: c.period })));
    sec.appendChild(Q.el("p", { "class": "score-line" }, Q.fill(S.scoreLine, { score: num(c.score, 1), grade: c.grade })));
    var cols = sec.appendChild(Q.el("div", { "class": "score-cols" }));
    cols.appendChild(figureRows(c.figures));
    var right = cols.appendChild(Q.el("div"));
    right.appendChild(Q.el("h3", {}, S.working));
    var ul = right.appendChild(Q.el("ul", { "class": "working" }));
    if (!c.deductions.length) ul.appendChild(Q.el("li", {}, S.noDeduction));
    c.deductions.forEach(function (d) {
      ul.appendChild(Q.el("li", {}, Q.fill(S.deduction, {
        measure: S.measures[d.measure], count: d.count, points: d.points, total: num(d.total, 1)
      })));
    });
    right.appendChild(Q.el("h3", {}, S.records));
    var rl = right.appendChild(Q.el("ul", { "class": "records" }));
    if (!c.records.length) rl.appendChild(Q.el("li", {}, S.noRecords));
    c.records.forEach(function (r) {
      rl.appendChild(Q.el("li", { "class": r.state }, Q.fill(r.state === "confirmed" ? S.record : S.dismissed,
        { level: r.level, period: r.period, reason: r.reason, by: r.decided_by || "" })));
    });
    sec.appendChild(Q.el("h3", {}, S.note));
    var shown = sec.appendChild(Q.el("p", { "class": "note-text print-only" }, c.note ? c.note.text : S.none));
    var area = sec.appendChild(Q.el("textarea", { "class": "note no-print", maxlength: "2000", rows: "3" }));
    area.value = c.note ? c.note.text : "";
    var save = sec.appendChild(Q.el("button", { type: "button", "class": "save-note no-print" }, S.saveNote));
    save.addEventListener("click", function () {
      Q.api("PUT", "/api/v1/users/" + c.user_id + "/assessment/note", { month: c.period, note: area.value })
        .then(function () { shown.textContent = area.value || S.none; say(S.noteSaved, "ok"); },
          function (err) { say(explain(err), "error"); });
    });
    sec.appendChild(Q.el("p", { "class": "signature" }, S.signature));
    return sec;
  }

  function load() {
    $("csv").href = "/api/v1/assessment.csv?month=" + encodeURIComponent(month());
    return Q.api("GET", "/api/v1/assessment?month=" + encodeURIComponent(month())).then(function (r) {
      var m = r.json;
      overview(m);
      proposals(m);
      var cards = $("cards");
      cards.textContent = "";
      m.people.forEach(function (c) { cards.appendChild(card(c)); });
      fillSettings(m.settings);
      loadSessions(m.from, m.to);
    }, function (err) { say(explain(err), "error"); });
  }

  // Settings.
  function measureSelect(value) {
    var sel = Q.el("select", { "class": "measure" });
    MEASURES.forEach(function (k) {
      var o = Q.el("option", { value: k }, S.measures[k]);
      if (k === value) o.selected = true;
      sel.appendChild(o);
    });
    return sel;
  }
  function removable(row) {
    var b = Q.el("button", { type: "button", "class": "remove" }, S.remove);
    b.addEventListener("click", function () { row.remove(); });
    row.appendChild(b);
    return row;
  }
  function gradeRow(g) {
    var row = Q.el("div", { "class": "grade-row filters" });
    var name = Q.el("input", { "class": "g-name", maxlength: "20", "aria-label": S.gradeName, required: "" });
    name.value = g.name;
    var min = Q.el("input", { "class": "g-min", type: "number", min: "0", max: "100", step: "0.5", "aria-label": S.minScore, required: "" });
    min.value = g.min_score;
    row.appendChild(name);
    row.appendChild(Q.el("span", {}, "≥"));
    row.appendChild(min);
    return removable(row);
  }
  function ruleRow(r) {
    var row = Q.el("div", { "class": "rule-row filters", "data-key": r.key });
    row.appendChild(Q.el("span", {}, S.ruleMeasure));
    row.appendChild(measureSelect(r.measure));
    row.appendChild(Q.el("span", {}, S.ruleAtLeast));
    var n = Q.el("input", { "class": "r-count", type: "number", min: "1", max: "100", required: "" });
    n.value = r.at_least;
    row.appendChild(n);
    row.appendChild(Q.el("span", {}, "→ " + S.ruleLevel));
    var level = Q.el("input", { "class": "r-level", maxlength: "40", required: "" });
    level.value = r.level;
    row.appendChild(level);
    return removable(row);
  }
  function fillSettings(s) {
    var w = $("weights");
    w.textContent = "";
    MEASURES.forEach(function (k) {
      var found = s.weights.filter(function (x) { return x.measure === k; })[0];
      var input = Q.el("input", { type: "number", min: "0", max: "100", step: "0.5", "data-measure": k });
      input.value = found ? found.points : 0;
      var label = Q.el("label", {}, S.measures[k]);
      label.appendChild(input);
      w.appendChild(label);
    });
    $("grades").textContent = "";
    s.grades.forEach(function (g) { $("grades").appendChild(gradeRow(g)); });
    $("rules").textContent = "";
    s.rules.forEach(function (r) { $("rules").appendChild(ruleRow(r)); });
  }
  function readSettings() {
    var weights = [];
    document.querySelectorAll("#weights input").forEach(function (i) {
      weights.push({ measure: i.getAttribute("data-measure"), points: Number(i.value) });
    });
    var grades = [];
    document.querySelectorAll("#grades .grade-row").forEach(function (r) {
      grades.push({ name: r.querySelector(".g-name").value, min_score: Number(r.querySelector(".g-min").value) });
    });
    var rules = [];
    document.querySelectorAll("#rules .rule-row").forEach(function (r, i) {
      var measure = r.querySelector(".measure").value;
      var count = Number(r.querySelector(".r-count").value);
      rules.push({ key: r.getAttribute("data-key") || (measure + "-" + count + "-" + i), measure: measure, at_least: count, level: r.querySelector(".r-level").value });
    });
    return { weights: weights, grades: grades, rules: rules };
  }

  // Training.
  function loadSessions(from, to) {
    Q.api("GET", "/api/v1/training?from=" + from + "&to=" + to).then(function (r) {
      var ul = $("sessions");
      ul.textContent = "";
      r.json.forEach(function (s) {
        ul.appendChild(Q.el("li", {}, Q.fill(S.session, { day: s.day, title: s.title, hours: s.hours, trainer: s.trainer || S.none, n: s.attendees.length })));
      });
    }, function () {});
    Q.api("GET", "/api/v1/training/requirements").then(function (r) {
      document.querySelectorAll("#req-form input[name=req]").forEach(function (i) {
        i.checked = r.json.services.indexOf(i.value) >= 0;
      });
    }, function () {});
  }
  function attendees() {
    var box = $("t-attendees");
    box.textContent = "";
    people.forEach(function (u) {
      var row = Q.el("label", { "class": "attendee" }, u.name + " ");
      var sel = Q.el("select", { "data-user": String(u.id) });
      [["", S.absentFromSession], ["pass", S.pass], ["fail", S.fail]].forEach(function (o) {
        sel.appendChild(Q.el("option", { value: o[0] }, o[1]));
      });
      row.appendChild(sel);
      box.appendChild(row);
    });
  }

  $("month-form").addEventListener("submit", function (e) { e.preventDefault(); say("", "info"); load(); });
  $("print").addEventListener("click", function () { window.print(); });
  $("add-grade").addEventListener("click", function () { $("grades").appendChild(gradeRow({ name: "", min_score: 0 })); });
  $("add-rule").addEventListener("click", function () { $("rules").appendChild(ruleRow({ key: "", measure: "late", at_least: 3, level: "" })); });
  $("settings-form").addEventListener("submit", function (e) {
    e.preventDefault();
    Q.api("PUT", "/api/v1/assessment/settings", readSettings()).then(function () {
      return load().then(function () { say(S.saved, "ok"); });
    }, function (err) { say(explain(err), "error"); });
  });
  $("training-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var list = [];
    document.querySelectorAll("#t-attendees select").forEach(function (s) {
      if (s.value) list.push({ user_id: Number(s.getAttribute("data-user")), result: s.value });
    });
    if (!list.length) { say(S.noAttendees, "error"); return; }
    Q.api("POST", "/api/v1/training", {
      title: $("t-title").value, day: $("t-day").value, hours: Number($("t-hours").value),
      trainer: $("t-trainer").value, service: $("t-service").value || null, attendees: list
    }).then(function () { return load().then(function () { say(S.recorded, "ok"); }); },
      function (err) { say(explain(err), "error"); });
  });
  $("req-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var services = [];
    document.querySelectorAll("#req-form input[name=req]:checked").forEach(function (i) { services.push(i.value); });
    Q.api("PUT", "/api/v1/training/requirements", { services: services }).then(function () { say(S.saved, "ok"); },
      function (err) { say(explain(err), "error"); });
  });

  Q.api("GET", "/api/v1/users").then(function (r) {
    people = r.json.filter(function (u) { return u.role === "staff" || u.role === "manager"; })
      .map(function (u) { return { id: u.id, name: u.display_name || u.username }; });
    attendees();
  }, function () {});
  load();
})();
