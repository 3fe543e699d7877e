// /manage/whatif: edits the branch's baseline scenario (GET /api/v1/simulate/baseline), runs it
// as it is and as changed (POST /api/v1/simulate, same days and seed), and shows per service the
// predicted service level and waits with their 95 % intervals beside today's actual figures.
(function () {
  "use strict";

  var Q = window.Qhall;
  var data = JSON.parse(document.getElementById("whatif-data").textContent);
  var T = data.text;
  var SVG = "http://www.w3.org/2000/svg";
  var basisEl = document.getElementById("basis");
  var runStatus = document.getElementById("run-status");
  var runBtn = document.getElementById("run");
  var hoursInput = document.getElementById("hours");

  var nameOf = {};
  data.services.forEach(function (s) { nameOf[s.code] = s.name; });

  var base = null;        // the baseline scenario, never changed
  var windows = [];       // [{number, text, serves, weights, isNew}]
  var asIs = null;        // the result of the baseline scenario, once run
  var today = null;       // GET /api/v1/stats
  var lastSent = null;    // the body of the last POST of the changed scenario (tests read it)

  function copy(v) { return JSON.parse(JSON.stringify(v)); }
  function codes() { return base.service.map(function (s) { return s.code; }); }

  // ---- formatting --------------------------------------------------------------------------

  function pct(v) { return v === null || v === undefined ? "–" : (v * 100).toFixed(1) + "%"; }
  function ci(c, scale, digits, unit) {
    if (!c || c.mean === null || c.mean === undefined) return "–";
    var s = (c.mean * scale).toFixed(digits) + unit;
    if (c.ci95 !== null && c.ci95 !== undefined) s += " ± " + (c.ci95 * scale).toFixed(digits);
    return s;
  }
  function levelClass(v) {
    if (v === null || v === undefined) return "";
    if (v >= data.goal) return "level-ok";
    if (v >= data.goal - 0.1) return "level-warn";
    return "level-bad";
  }
  function hhmmPairs(open) {
    return open.map(function (p) { return p[0] + "-" + p[1]; }).join(", ");
  }
  function perDay(code) {
    var n = 0;
    base.arrivals.forEach(function (a) {
      var hours = a.from && a.to ? (mins(a.to) - mins(a.from)) / 60 : 24;
      n += (a.per_hour[code] || 0) * hours;
    });
    return n;
  }
  function mins(hhmm) { var p = hhmm.split(":"); return Number(p[0]) * 60 + Number(p[1]); }

  // ---- the editor ----------------------------------------------------------------------------

  function windowRows() {
    var tb = document.querySelector("#windows tbody");
    tb.textContent = "";
    windows.forEach(function (w, i) {
      var tr = Q.el("tr", { "data-window": String(w.number) });
      var th = Q.el("th", { scope: "row" }, Q.fill(T.window_n, { n: w.number }));
      if (w.isNew) th.appendChild(Q.el("span", { class: "tag" }, T.new));
      tr.appendChild(th);
      var td = Q.el("td");
      var input = Q.el("input", { type: "text", class: "serves", value: w.text, "aria-label": Q.fill(T.window_n, { n: w.number }), spellcheck: "false", autocomplete: "off" });
      input.addEventListener("input", function () { w.text = input.value; changed(); });
      td.appendChild(input);
      tr.appendChild(td);
      var rm = Q.el("td");
      var b = Q.el("button", { type: "button", class: "remove" }, T.remove);
      b.addEventListener("click", function () { windows.splice(i, 1); windowRows(); changed(); });
      rm.appendChild(b);
      tr.appendChild(rm);
      tb.appendChild(tr);
    });
  }

  function serviceRows() {
    var tb = document.querySelector("#services tbody");
    tb.textContent = "";
    base.service.forEach(function (s) {
      var tr = Q.el("tr", { "data-service": s.code });
      tr.appendChild(Q.el("th", { scope: "row" }, s.code + " " + (nameOf[s.code] || "")));
      tr.appendChild(Q.el("td", { class: "num" }, perDay(s.code).toFixed(1)));
      var a = Q.el("td", { class: "num" });
      var pctIn = Q.el("input", { type: "number", class: "arrivals", min: "0", step: "10", value: "100", "aria-label": s.code + " %" });
      pctIn.addEventListener("input", changed);
      a.appendChild(pctIn);
      tr.appendChild(a);
      var m = Q.el("td", { class: "num" });
      var meanIn = Q.el("input", { type: "number", class: "mean", min: "0.1", step: "0.1", value: String(s.mean_service_min), "aria-label": s.code + " min" });
      meanIn.addEventListener("input", changed);
      m.appendChild(meanIn);
      tr.appendChild(m);
      tb.appendChild(tr);
    });
  }

  function reset() {
    windows = base.window.map(function (w) {
      return { number: w.number, text: w.serves.join(" "), serves: w.serves, weights: w.weights, isNew: false };
    });
    windowRows();
    serviceRows();
    hoursInput.value = base.hours ? hhmmPairs(base.hours.open) : "";
    var a = base.appointments;
    document.getElementById("appt-share").value = a ? String(Math.round(a.share * 100)) : "0";
    document.getElementById("appt-places").value = a && a.places ? String(a.places) : "";
    changed();
  }

  function changed() {
    runStatus.textContent = asIs ? T.changed : "";
    runStatus.classList.remove("error");
  }

  document.getElementById("add-window").addEventListener("click", function () {
    var n = windows.reduce(function (m, w) { return Math.max(m, w.number); }, 0) + 1;
    windows.push({ number: n, text: codes().join(" "), serves: null, weights: null, isNew: true });
    windowRows();
    changed();
  });
  document.getElementById("reset").addEventListener("click", function () { if (base) reset(); });

  // The scenario as edited, or a sentence saying what is wrong with it.
  function build() {
    var sc = copy(base);
    var known = codes();
    if (!windows.length) throw T.no_windows;
    sc.window = windows.map(function (w) {
      var original = w.serves && w.text === w.serves.join(" ");
      if (original) {
        var keep = { number: w.number, serves: w.serves.slice() };
        if (w.weights) keep.weights = w.weights.slice();
        return keep;
      }
      var serves = w.text.toUpperCase().split(/[\s,，、;；]+/).filter(function (c) { return c; });
      var bad = serves.filter(function (c) { return known.indexOf(c) < 0; });
      if (bad.length) throw Q.fill(T.bad_codes, { n: w.number, codes: bad.join(", ") });
      if (!serves.length) throw Q.fill(T.no_serves, { n: w.number });
      return { number: w.number, serves: serves.filter(function (c, i) { return serves.indexOf(c) === i; }) };
    });
    var rows = document.querySelectorAll("#services tbody tr");
    Array.prototype.forEach.call(rows, function (tr) {
      var code = tr.getAttribute("data-service");
      var p = Number(tr.querySelector("input.arrivals").value);
      var m = Number(tr.querySelector("input.mean").value);
      if (!isFinite(p) || p < 0 || !isFinite(m) || m <= 0 || tr.querySelector("input.arrivals").value === "") throw T.bad_number;
      var svc = sc.service.filter(function (s) { return s.code === code; })[0];
      if (m !== svc.mean_service_min) svc.mean_service_min = m;
      if (p !== 100) {
        var factor = p / 100;
        sc.arrivals.forEach(function (a) {
          if (a.per_hour[code] !== undefined) a.per_hour[code] = a.per_hour[code] * factor;
        });
      }
    });
    var originalHours = base.hours ? hhmmPairs(base.hours.open) : "";
    if (hoursInput.value.trim() !== originalHours) {
      var open = [];
      var parts = hoursInput.value.split(/[,，;；]/).filter(function (p) { return p.trim(); });
      parts.forEach(function (p) {
        var m = /^\s*(\d{1,2}):(\d{2})\s*[-–~至到]\s*(\d{1,2}):(\d{2})\s*$/.exec(p);
        if (!m) throw T.bad_hours;
        var pad = function (h) { return h.length === 1 ? "0" + h : h; };
        open.push([pad(m[1]) + ":" + m[2], pad(m[3]) + ":" + m[4]]);
      });
      if (!open.length) throw T.bad_hours;
      sc.hours = { open: open };
    }
    // Appointments: a share of the arrivals booked, and the places a slot takes.
    var share = Number(document.getElementById("appt-share").value || "0");
    var placesText = document.getElementById("appt-places").value;
    var places = placesText === "" ? null : Number(placesText);
    if (!isFinite(share) || share < 0 || share > 90 || (places !== null && !(places >= 1 && places <= 50))) throw T.bad_number;
    if (share > 0) {
      var ap = base.appointments ? copy(base.appointments) : {};
      ap.share = share / 100;
      if (places === null) delete ap.places; else ap.places = Math.round(places);
      sc.appointments = ap;
    } else {
      delete sc.appointments;
    }
    sc.service.forEach(function (s) {
      var arrives = sc.arrivals.some(function (a) { return (a.per_hour[s.code] || 0) > 0; });
      var served = sc.window.some(function (w) { return w.serves.indexOf(s.code) >= 0; });
      if (arrives && !served) throw Q.fill(T.unserved, { code: s.code });
    });
    return sc;
  }

  function body(scenario) {
    return { scenario: scenario, days: data.days, seed: data.seed, policy: data.policy };
  }

  function explainError(err) {
    if (err.code === "busy") return T.busy;
    return Q.fill(T.error, { message: err.message || err.code || err.status });
  }

  runBtn.addEventListener("click", function () {
    var scenario;
    try { scenario = build(); } catch (e) {
      runStatus.textContent = String(e);
      runStatus.classList.add("error");
      return;
    }
    runBtn.disabled = true;
    runStatus.classList.remove("error");
    runStatus.textContent = Q.fill(T.running, { days: data.days });
    document.body.removeAttribute("data-result");
    var first = asIs ? Promise.resolve(asIs) : Q.api("POST", "/api/v1/simulate", body(base)).then(function (r) {
      asIs = r.json.policies[0];
      return asIs;
    });
    var sent = body(scenario);
    first.then(function () {
      lastSent = sent;
      return Q.api("POST", "/api/v1/simulate", sent);
    }).then(function (r) {
      show(r.json.policies[0]);
      runStatus.textContent = Q.fill(T.done, { days: data.days });
      document.body.setAttribute("data-result", String(Date.now()));
    }, function (err) {
      runStatus.textContent = explainError(err);
      runStatus.classList.add("error");
    }).then(function () { runBtn.disabled = false; });
  });

  // ---- results -------------------------------------------------------------------------------

  function todayOf(code) {
    if (!today) return null;
    if (code === null) return today;
    return today.by_service.filter(function (s) { return s.service === code; })[0] || null;
  }

  function show(p) {
    var t = document.getElementById("results");
    t.textContent = "";
    var thead = Q.el("thead");
    var h1 = Q.el("tr");
    h1.appendChild(Q.el("th", { rowspan: "2", scope: "col" }, T.service));
    h1.appendChild(Q.el("th", { colspan: "4", scope: "colgroup", class: "group" }, T.predicted));
    h1.appendChild(Q.el("th", { rowspan: "2", scope: "col", class: "num group" }, T.as_is + " · " + T.level));
    h1.appendChild(Q.el("th", { colspan: "2", scope: "colgroup", class: "group" }, T.today));
    thead.appendChild(h1);
    var h2 = Q.el("tr");
    [T.per_day, T.level, T.mean_wait + " (" + T.min + ")", T.p90_wait + " (" + T.min + ")", T.level, T.mean_wait + " (" + T.min + ")"].forEach(function (h) {
      h2.appendChild(Q.el("th", { scope: "col", class: "num" }, h));
    });
    thead.appendChild(h2);
    t.appendChild(thead);
    var tb = Q.el("tbody");
    var lines = Object.keys(p.by_service).map(function (code) {
      return { key: code, label: code + " " + (nameOf[code] || ""), f: p.by_service[code], a: asIs && asIs.by_service[code], d: todayOf(code) };
    });
    lines.push({ key: "overall", label: T.overall, f: p.overall, a: asIs && asIs.overall, d: todayOf(null) });
    lines.forEach(function (l) {
      var tr = Q.el("tr", { "data-key": l.key, class: l.key === "overall" ? "overall" : "" });
      tr.appendChild(Q.el("th", { scope: "row" }, l.label));
      tr.appendChild(Q.el("td", { class: "num", "data-col": "customers", "data-value": String(l.f.customers) }, l.f.customers.toFixed(1)));
      var sl = l.f.service_level;
      tr.appendChild(Q.el("td", { class: "num " + levelClass(sl.mean), "data-col": "level", "data-value": String(sl.mean), "data-ci": String(sl.ci95) }, ci(sl, 100, 1, "%")));
      tr.appendChild(Q.el("td", { class: "num", "data-col": "mean_wait", "data-value": String(l.f.mean_wait_min.mean) }, ci(l.f.mean_wait_min, 1, 1, "")));
      tr.appendChild(Q.el("td", { class: "num", "data-col": "p90_wait", "data-value": String(l.f.p90_wait_min.mean) }, ci(l.f.p90_wait_min, 1, 1, "")));
      var a = l.a ? l.a.service_level : null;
      tr.appendChild(Q.el("td", { class: "num " + levelClass(a && a.mean), "data-col": "as_is", "data-value": String(a && a.mean) }, ci(a, 100, 1, "%")));
      var d = l.d;
      tr.appendChild(Q.el("td", { class: "num " + levelClass(d && d.service_level), "data-col": "today" }, d ? pct(d.service_level) : "–"));
      tr.appendChild(Q.el("td", { class: "num", "data-col": "today_wait" }, d && d.mean_wait_secs !== null ? (d.mean_wait_secs / 60).toFixed(1) : "–"));
      tb.appendChild(tr);
    });
    t.appendChild(tb);
    chart(lines);
    document.getElementById("explain").textContent = Q.fill(T.explain, { days: data.days });
  }

  function svgEl(tag, attrs, text) {
    var e = document.createElementNS(SVG, tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // One row per service: the predicted level as a bar with its interval as a whisker, the
  // as-is prediction as a hollow mark, today's actual level as a dot, the goal as a dashed line.
  function chart(lines) {
    var box = document.getElementById("chart");
    box.textContent = "";
    var W = 560, L = 130, R = 16, Tp = 6, rowH = 26, B = 40;
    var H = Tp + rowH * lines.length + B, pw = W - L - R;
    var xs = function (v) { return L + pw * Math.max(0, Math.min(1, v)); };
    var s = svgEl("svg", { viewBox: "0 0 " + W + " " + H, width: "100%", role: "img", "aria-label": T.level, class: "chart-svg" });
    [0, 0.25, 0.5, 0.75, 1].forEach(function (v) {
      s.appendChild(svgEl("line", { x1: xs(v), x2: xs(v), y1: Tp, y2: Tp + rowH * lines.length, class: "grid" }));
      s.appendChild(svgEl("text", { x: xs(v), y: Tp + rowH * lines.length + 13, class: "tick", "text-anchor": "middle" }, (v * 100) + "%"));
    });
    lines.forEach(function (l, i) {
      var y = Tp + i * rowH, mid = y + rowH / 2;
      var label = l.label.length > 18 ? l.label.slice(0, 17) + "…" : l.label;
      s.appendChild(svgEl("text", { x: L - 6, y: mid + 4, class: "label", "text-anchor": "end" }, label));
      var sl = l.f.service_level;
      if (sl && sl.mean !== null && sl.mean !== undefined) {
        var c = levelClass(sl.mean);
        s.appendChild(svgEl("rect", { x: L, y: y + 6, width: Math.max(1, xs(sl.mean) - L), height: rowH - 12, class: c === "level-ok" ? "bar-ok" : c === "level-warn" ? "bar-warn" : "bar-bad" }));
        if (sl.ci95 !== null && sl.ci95 !== undefined) {
          s.appendChild(svgEl("line", { x1: xs(sl.mean - sl.ci95), x2: xs(sl.mean + sl.ci95), y1: mid, y2: mid, class: "whisker" }));
          s.appendChild(svgEl("line", { x1: xs(sl.mean - sl.ci95), x2: xs(sl.mean - sl.ci95), y1: mid - 5, y2: mid + 5, class: "whisker" }));
          s.appendChild(svgEl("line", { x1: xs(sl.mean + sl.ci95), x2: xs(sl.mean + sl.ci95), y1: mid - 5, y2: mid + 5, class: "whisker" }));
        }
      }
      if (l.a && l.a.service_level.mean !== null && l.a.service_level.mean !== undefined) {
        var ax = xs(l.a.service_level.mean);
        s.appendChild(svgEl("path", { d: "M" + ax + " " + (y + 2) + " l5 5 l-5 5 l-5 -5 z", class: "as-is" }));
      }
      if (l.d && l.d.service_level !== null && l.d.service_level !== undefined) {
        s.appendChild(svgEl("circle", { cx: xs(l.d.service_level), cy: y + rowH - 6, r: 4, class: "today" }));
      }
    });
    var gx = xs(data.goal);
    s.appendChild(svgEl("line", { x1: gx, x2: gx, y1: Tp, y2: Tp + rowH * lines.length, class: "goal" }));
    var ly = H - 8;
    s.appendChild(svgEl("rect", { x: L, y: ly - 9, width: 12, height: 10, class: "bar-ok" }));
    s.appendChild(svgEl("text", { x: L + 16, y: ly, class: "tick" }, T.legend_pred));
    s.appendChild(svgEl("path", { d: "M" + (L + 230) + " " + (ly - 10) + " l5 5 l-5 5 l-5 -5 z", class: "as-is" }));
    s.appendChild(svgEl("text", { x: L + 240, y: ly, class: "tick" }, T.legend_asis));
    s.appendChild(svgEl("circle", { cx: L + 320, cy: ly - 4, r: 4, class: "today" }));
    s.appendChild(svgEl("text", { x: L + 328, y: ly, class: "tick" }, T.legend_today));
    s.appendChild(svgEl("line", { x1: L - 110, x2: L - 90, y1: ly - 4, y2: ly - 4, class: "goal" }));
    s.appendChild(svgEl("text", { x: L - 86, y: ly, class: "tick" }, Q.fill(T.goal, { goal: Math.round(data.goal * 100) + "%" })));
    box.appendChild(s);
  }

  // ---- start ---------------------------------------------------------------------------------

  window.qhallWhatif = { lastSent: function () { return lastSent; } };

  Promise.all([
    Q.api("GET", "/api/v1/simulate/baseline"),
    Q.api("GET", "/api/v1/stats").then(function (r) { return r; }, function () { return null; })
  ]).then(function (res) {
    var b = res[0].json;
    base = b.scenario;
    today = res[1] ? res[1].json : null;
    basisEl.textContent = b.tickets ?
      Q.fill(T.basis, { windows: base.window.length, from: b.from, to: b.to, days: b.days_with_data, tickets: b.tickets }) :
      Q.fill(T.basis_none, { windows: base.window.length });
    reset();
    runBtn.disabled = false;
    document.body.setAttribute("data-ready", "1");
  }, function (err) {
    basisEl.textContent = explainError(err);
    basisEl.classList.add("error");
  });
})();
