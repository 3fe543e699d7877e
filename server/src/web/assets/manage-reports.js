// /manage/reports: reads GET /api/v1/reports for the chosen range of the branch's local days,
// draws the charts as inline SVG and fills the tables; keeps the CSV links on the same range.
(function () {
  "use strict";

  var Q = window.Qhall;
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var T = data.text;
  var SVG = "http://www.w3.org/2000/svg";
  var fromInput = document.getElementById("from");
  var toInput = document.getElementById("to");
  var statusEl = document.getElementById("status");

  var serviceByCode = {};
  data.services.forEach(function (s) { serviceByCode[s.code] = s; });
  var windowName = {};
  data.windows.forEach(function (w) { windowName[w.number] = w.name; });

  // ---- formatting --------------------------------------------------------------------------

  function pct(v) { return v === null || v === undefined ? "–" : (v * 100).toFixed(1) + "%"; }
  function mins(secs) { return secs === null || secs === undefined ? "–" : (secs / 60).toFixed(1); }
  function levelClass(v) {
    if (v === null || v === undefined) return "";
    if (v >= data.goal) return "level-ok";
    if (v >= data.goal - 0.1) return "level-warn";
    return "level-bad";
  }
  // Colour is never the only signal: a level below the goal also gets a mark.
  function levelText(v) {
    if (v === null || v === undefined) return "–";
    return pct(v) + (v < data.goal ? " ▼" : "");
  }
  function short(text, n) { return text.length > n ? text.slice(0, n - 1) + "…" : text; }
  function meanScore(sat) {
    var n = 0, sum = 0;
    sat.forEach(function (c, i) { n += c; sum += c * (i + 1); });
    return n ? { n: n, score: (sum / n).toFixed(1) } : null;
  }

  // ---- SVG helpers ---------------------------------------------------------------------------

  function svgEl(tag, attrs, text) {
    var e = document.createElementNS(SVG, tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function svgRoot(w, h, label) {
    return svgEl("svg", { viewBox: "0 0 " + w + " " + h, width: "100%", role: "img", "aria-label": label, class: "chart-svg" });
  }
  function levelFill(v) {
    var c = levelClass(v);
    return c === "level-ok" ? "bar-ok" : c === "level-warn" ? "bar-warn" : "bar-bad";
  }

  // Service level by hour of issue: one bar per hour, the goal as a dashed line.
  function hourChart(byHour) {
    var box = document.getElementById("chart-hour");
    box.textContent = "";
    var hours = byHour.filter(function (l) { return l.issued > 0; }).map(function (l) { return l.key; });
    if (!hours.length) { box.appendChild(Q.el("p", { class: "empty" }, T.no_calls)); return; }
    var first = Math.min.apply(null, hours), last = Math.max.apply(null, hours);
    // At least eight hours wide, so one busy hour is not one fat bar.
    while (last - first < 7) { if (last < 23) last++; else first--; }
    var W = 420, H = 220, L = 44, R = 8, Tp = 12, B = 36;
    var n = last - first + 1, step = (W - L - R) / n, ph = H - Tp - B;
    var s = svgRoot(W, H, T.level_axis);
    [0, 0.5, 1].forEach(function (v) {
      var y = Tp + ph * (1 - v);
      s.appendChild(svgEl("line", { x1: L, x2: W - R, y1: y, y2: y, class: "grid" }));
      s.appendChild(svgEl("text", { x: L - 4, y: y + 4, class: "tick", "text-anchor": "end" }, (v * 100) + "%"));
    });
    for (var h = first; h <= last; h++) {
      var line = byHour[h];
      var x = L + (h - first) * step;
      if (line && line.service_level !== null && line.service_level !== undefined) {
        var bh = Math.max(1, ph * line.service_level);
        var r = svgEl("rect", { x: x + step * 0.15, y: Tp + ph - bh, width: step * 0.7, height: bh, class: levelFill(line.service_level) });
        r.appendChild(svgEl("title", {}, String(h).padStart(2, "0") + ":00 · " + pct(line.service_level) + " · " + T.called + " " + line.called));
        s.appendChild(r);
      }
      if (n <= 12 || (h - first) % 2 === 0) {
        s.appendChild(svgEl("text", { x: x + step / 2, y: H - B + 14, class: "tick", "text-anchor": "middle" }, String(h).padStart(2, "0")));
      }
    }
    var gy = Tp + ph * (1 - data.goal);
    s.appendChild(svgEl("line", { x1: L, x2: W - R, y1: gy, y2: gy, class: "goal" }));
    s.appendChild(svgEl("text", { x: W - R, y: gy - 4, class: "goal-label", "text-anchor": "end" }, Q.fill(T.goal, { goal: pct(data.goal).replace(".0", "") })));
    s.appendChild(svgEl("text", { x: L + (W - L - R) / 2, y: H - 4, class: "axis", "text-anchor": "middle" }, T.hour_axis));
    box.appendChild(s);
  }

  // Waits by service: the 90th percentile as a light bar, the median as a dark one inside it,
  // the service's target as a vertical mark on its row.
  function waitChart(byService) {
    var box = document.getElementById("chart-wait");
    box.textContent = "";
    var rows = byService.filter(function (l) { return l.called > 0; });
    if (!rows.length) { box.appendChild(Q.el("p", { class: "empty" }, T.no_calls)); return; }
    var max = 1;
    rows.forEach(function (l) {
      var tgt = (serviceByCode[l.key] || {}).target_secs || 0;
      max = Math.max(max, (l.p90_wait_secs || 0) / 60, tgt / 60);
    });
    var step = [1, 2, 5, 10, 15, 20, 30, 60, 120].filter(function (v) { return max / v <= 5; })[0] || 240;
    max = Math.ceil(max / step) * step;
    var ticks = [];
    for (var t = 0; t <= max; t += step) ticks.push(t);
    var W = 420, L = 128, R = 12, Tp = 8, rowH = 30, B = 40;
    var H = Tp + rowH * rows.length + B, pw = W - L - R;
    var s = svgRoot(W, H, T.wait_axis);
    var xs = function (m) { return L + pw * m / max; };
    ticks.forEach(function (m) {
      s.appendChild(svgEl("line", { x1: xs(m), x2: xs(m), y1: Tp, y2: Tp + rowH * rows.length, class: "grid" }));
      s.appendChild(svgEl("text", { x: xs(m), y: Tp + rowH * rows.length + 14, class: "tick", "text-anchor": "middle" }, String(m)));
    });
    rows.forEach(function (l, i) {
      var svc = serviceByCode[l.key] || { name: l.key, target_secs: 0 };
      var y = Tp + i * rowH;
      s.appendChild(svgEl("text", { x: L - 6, y: y + rowH / 2 + 4, class: "label", "text-anchor": "end" }, short(svc.name, 18)));
      var p90 = (l.p90_wait_secs || 0) / 60, med = (l.median_wait_secs || 0) / 60;
      var over = (l.p90_wait_secs || 0) > svc.target_secs;
      var bar = svgEl("rect", { x: L, y: y + 5, width: Math.max(1, xs(p90) - L), height: rowH - 10, class: over ? "bar-p90 over" : "bar-p90" });
      bar.appendChild(svgEl("title", {}, T.p90 + " " + p90.toFixed(1) + " " + T.min));
      s.appendChild(bar);
      var mb = svgEl("rect", { x: L, y: y + 10, width: Math.max(1, xs(med) - L), height: rowH - 20, class: "bar-median" });
      mb.appendChild(svgEl("title", {}, T.median + " " + med.toFixed(1) + " " + T.min));
      s.appendChild(mb);
      var tx = xs(svc.target_secs / 60);
      s.appendChild(svgEl("line", { x1: tx, x2: tx, y1: y + 2, y2: y + rowH - 2, class: "target" }));
    });
    var ly = H - 10;
    s.appendChild(svgEl("rect", { x: L, y: ly - 9, width: 12, height: 10, class: "bar-median" }));
    s.appendChild(svgEl("text", { x: L + 16, y: ly, class: "tick" }, T.median));
    s.appendChild(svgEl("rect", { x: L + 70, y: ly - 9, width: 12, height: 10, class: "bar-p90" }));
    s.appendChild(svgEl("text", { x: L + 86, y: ly, class: "tick" }, T.p90));
    s.appendChild(svgEl("rect", { x: L + 140, y: ly - 9, width: 12, height: 10, class: "bar-p90 over" }));
    s.appendChild(svgEl("text", { x: L + 156, y: ly, class: "tick" }, T.over_target));
    s.appendChild(svgEl("line", { x1: L + 250, x2: L + 250, y1: ly - 10, y2: ly + 1, class: "target" }));
    s.appendChild(svgEl("text", { x: L + 255, y: ly, class: "tick" }, T.target));
    s.appendChild(svgEl("text", { x: L - 6, y: Tp + rowH * rows.length + 14, class: "axis", "text-anchor": "end" }, T.min));
    box.appendChild(s);
  }

  // Satisfaction: one bar per level, very satisfied first, with count and share.
  function satChart(sat) {
    var box = document.getElementById("chart-sat");
    box.textContent = "";
    var total = sat.reduce(function (a, b) { return a + b; }, 0);
    if (!total) { box.appendChild(Q.el("p", { class: "empty" }, T.no_ratings)); return; }
    var W = 420, L = 96, R = 70, rowH = 30, Tp = 8, B = 22;
    var H = Tp + rowH * 5 + B, pw = W - L - R;
    var max = Math.max.apply(null, sat);
    var s = svgRoot(W, H, T.rating);
    for (var k = 4; k >= 0; k--) {
      var y = Tp + (4 - k) * rowH;
      s.appendChild(svgEl("text", { x: L - 6, y: y + rowH / 2 + 4, class: "label", "text-anchor": "end" }, T.sat[k]));
      var w = max ? pw * sat[k] / max : 0;
      s.appendChild(svgEl("rect", { x: L, y: y + 5, width: Math.max(sat[k] ? 2 : 0, w), height: rowH - 10, class: "bar-sat sat-" + (k + 1) }));
      s.appendChild(svgEl("text", { x: L + w + 6, y: y + rowH / 2 + 4, class: "tick" }, sat[k] + " · " + Math.round(100 * sat[k] / total) + "%"));
    }
    var m = meanScore(sat);
    s.appendChild(svgEl("text", { x: L, y: H - 6, class: "axis" }, Q.fill(T.ratings_n, { n: total }) + " · " + Q.fill(T.mean_only, m)));
    box.appendChild(s);
  }

  // ---- summary and tables --------------------------------------------------------------------

  function summary(r) {
    var box = document.getElementById("summary");
    box.textContent = "";
    var o = r.overall;
    var m = meanScore(o.satisfaction);
    var cards = [
      [T.issued, String(o.issued), ""],
      [T.served, String(o.served), ""],
      [T.no_show, String(o.no_show), ""],
      [T.cancelled, String(o.cancelled), ""],
      [T.service_level, levelText(o.service_level), levelClass(o.service_level)],
      [T.mean_wait, mins(o.mean_wait_secs) + " " + T.min, ""],
      [T.p90_wait, mins(o.p90_wait_secs) + " " + T.min, ""],
      [T.est_mae, mins(o.estimate.mean_abs_error_secs) + " " + T.min, ""],
      [T.est_within, pct(o.estimate.within_range_share), ""],
      [T.rating, m ? m.score + " / 5" : "–", ""]
    ];
    cards.forEach(function (c, i) {
      var d = Q.el("div", { class: "stat", "data-stat": ["issued", "served", "no_show", "cancelled", "service_level", "mean_wait", "p90_wait", "est_mae", "est_within", "rating"][i] });
      d.appendChild(Q.el("span", { class: "stat-label" }, c[0]));
      d.appendChild(Q.el("span", { class: "stat-value " + c[2] }, c[1]));
      box.appendChild(d);
    });
  }

  var COLUMNS = [
    ["issued", function (l) { return String(l.issued); }],
    ["served", function (l) { return String(l.served); }],
    ["no_show", function (l) { return String(l.no_show); }],
    ["cancelled", function (l) { return String(l.cancelled); }],
    ["mean_wait", function (l) { return mins(l.mean_wait_secs); }, true],
    ["median_wait", function (l) { return mins(l.median_wait_secs); }, true],
    ["p90_wait", function (l) { return mins(l.p90_wait_secs); }, true],
    ["mean_service", function (l) { return mins(l.mean_service_secs); }, true],
    ["service_level", function (l) { return levelText(l.service_level); }],
    ["est_mae", function (l) { return mins(l.estimate.mean_abs_error_secs); }, true],
    ["est_within", function (l) { return pct(l.estimate.within_range_share); }],
    ["rating", function (l) { var m = meanScore(l.satisfaction); return m ? Q.fill(T.mean_score, m) : "–"; }]
  ];

  function fillTable(id, keyHead, lines, keyText) {
    var t = document.getElementById(id);
    t.textContent = "";
    var thead = Q.el("thead"), tr = Q.el("tr");
    tr.appendChild(Q.el("th", { scope: "col" }, keyHead));
    COLUMNS.forEach(function (c) {
      tr.appendChild(Q.el("th", { scope: "col", class: "num", "data-col": c[0] }, T[c[0]] + (c[2] ? " (" + T.min_short + ")" : "")));
    });
    thead.appendChild(tr);
    t.appendChild(thead);
    var tb = Q.el("tbody");
    lines.forEach(function (l) {
      var row = Q.el("tr", { "data-key": String(l.key) });
      row.appendChild(Q.el("th", { scope: "row" }, keyText(l)));
      COLUMNS.forEach(function (c) {
        var cls = "num" + (c[0] === "service_level" ? " " + levelClass(l.service_level) : "");
        row.appendChild(Q.el("td", { class: cls, "data-col": c[0] }, c[1](l)));
      });
      tb.appendChild(row);
    });
    if (!lines.length) {
      var empty = Q.el("tr");
      empty.appendChild(Q.el("td", { colspan: String(COLUMNS.length + 1), class: "empty" }, T.no_tickets));
      tb.appendChild(empty);
    }
    t.appendChild(tb);
  }

  // A plain table: `heads` as column headings, `rows` as arrays of cell texts (the first a row
  // heading); numeric columns are those whose index is in `nums`.
  function plainTable(id, heads, rows, nums) {
    var t = document.getElementById(id);
    t.textContent = "";
    var thead = Q.el("thead"), tr = Q.el("tr");
    heads.forEach(function (h, i) { tr.appendChild(Q.el("th", { scope: "col", class: nums.indexOf(i) >= 0 ? "num" : "" }, h)); });
    thead.appendChild(tr);
    t.appendChild(thead);
    var tb = Q.el("tbody");
    rows.forEach(function (cells) {
      var row = Q.el("tr");
      cells.forEach(function (c, i) {
        row.appendChild(i === 0 ? Q.el("th", { scope: "row" }, c) : Q.el("td", { class: nums.indexOf(i) >= 0 ? "num" : "" }, c));
      });
      tb.appendChild(row);
    });
    if (!rows.length) {
      var empty = Q.el("tr");
      empty.appendChild(Q.el("td", { colspan: String(heads.length), class: "empty" }, T.none));
      tb.appendChild(empty);
    }
    t.appendChild(tb);
  }

  function oversight(r) {
    var staff = function (id) { return r.staff_names[String(id)] || ("#" + id); };
    var service = function (code) { var s = serviceByCode[code]; return code + " " + (s ? s.name : T.removed); };
    var win = function (n) { return windowName[n] || String(n); };
    var reasons = function (m) { return Object.keys(m).map(function (k) { return short(k, 40) + " ×" + m[k]; }).join("; "); };
    plainTable("ov-closed", [T.day, T.service, T.left_unserved], r.closed_unserved.map(function (c) {
      return [c.day, service(c.service), String(c.count)];
    }), [2]);
    var people = {};
    r.out_of_order_by_staff.forEach(function (c) { (people[c.key] = people[c.key] || [0, 0])[0] = c.count; });
    r.reinstated_by_staff.forEach(function (c) { (people[c.key] = people[c.key] || [0, 0])[1] = c.count; });
    plainTable("ov-calls", [T.staff, T.out_of_order, T.reinstated], Object.keys(people).map(function (k) {
      return [staff(k), String(people[k][0]), String(people[k][1])];
    }), [1, 2]);
    var ext = function (key) {
      return function (e) { return [key(e.key), String(e.count), mins(e.mean_service_secs), reasons(e.reasons)]; };
    };
    var extHeads = function (k) { return [k, T.count, T.mean_service + " (" + T.min_short + ")", T.reasons]; };
    plainTable("ov-ext-service", extHeads(T.service), r.extended_by_service.map(ext(service)), [1, 2]);
    plainTable("ov-ext-staff", extHeads(T.staff), r.extended_by_staff.map(ext(staff)), [1, 2]);
    plainTable("ov-transfers", [T.from, T.to, T.count], r.service_transfers.map(function (t) {
      return [service(t.from), service(t.to), String(t.count)];
    }), [2]);
    plainTable("ov-window-transfers", [T.from, T.to, T.count], r.window_transfers.map(function (t) {
      return [win(t.from), win(t.to), String(t.count)];
    }), [2]);
    var share = function (key) {
      return function (s) { return [key(s.key), String(s.completed), String(s.checked), pct(s.share)]; };
    };
    plainTable("ov-id-service", [T.service, T.completed, T.checked, T.share], r.identity_by_service.map(share(service)), [1, 2, 3]);
    plainTable("ov-id-staff", [T.staff, T.completed, T.checked, T.share], r.identity_by_staff.map(share(staff)), [1, 2, 3]);
  }

  function feedback(r) {
    var f = r.feedback;
    if (!f) return;
    var heads = function (k) {
      return [k, T.complaints, T.from_customers, T.suggestions, T.follow_ups, T.open, T.overdue, T.resolved_late];
    };
    var row = function (key) {
      return function (l) {
        return [l.key === "" ? T.unknown : key(l.key), String(l.complaints), String(l.from_customers), String(l.suggestions),
          String(l.follow_ups), String(l.open), String(l.overdue), String(l.resolved_late)];
      };
    };
    var nums = [1, 2, 3, 4, 5, 6, 7];
    var service = function (code) { var s = serviceByCode[code]; return code + " " + (s ? s.name : T.removed); };
    var staff = function (id) { return r.staff_names[String(id)] || ("#" + id); };
    plainTable("fb-service", heads(T.service), f.by_service.map(row(service)), nums);
    plainTable("fb-window", heads(T.window), f.by_window.map(row(function (n) { return windowName[n] || n; })), nums);
    plainTable("fb-person", heads(T.staff), f.by_person.map(row(staff)), nums);
  }

  function appointments(r) {
    var a = r.appointments;
    if (!a) return;
    var service = function (code) { var s = serviceByCode[code]; return code + " " + (s ? s.name : T.removed); };
    var share = function (n, of) { return of ? pct(n / of) : "–"; };
    var row = function (l) {
      return [l.day ? l.day + " · " + service(l.service) : T.total, String(l.made), String(l.cancelled), String(l.checked_in),
        String(l.late), String(l.no_show), share(l.within_5, l.called), share(l.within_10, l.called),
        l.called ? (l.delay_secs / l.called / 60).toFixed(1) + " " + T.min : "–"];
    };
    var rows = a.by_day.map(row);
    if (a.by_day.length) rows.push(row(a.overall));
    plainTable("appt-table", [T.day + " · " + T.service, T.made, T.cancelled, T.appt_checked_in, T.late, T.appt_no_show,
      T.within_5, T.within_10, T.mean_delay], rows, [1, 2, 3, 4, 5, 6, 7, 8]);
  }

  function render(r) {
    summary(r);
    oversight(r);
    feedback(r);
    appointments(r);
    hourChart(r.by_hour);
    waitChart(r.by_service);
    satChart(r.overall.satisfaction);
    fillTable("table-service", T.service, r.by_service, function (l) {
      var s = serviceByCode[l.key];
      return l.key + " " + (s ? s.name : T.removed);
    });
    fillTable("table-window", T.window, r.by_window, function (l) {
      return windowName[l.key] || (l.key + " " + T.removed);
    });
    fillTable("table-staff", T.staff, r.by_staff, function (l) {
      return r.staff_names[String(l.key)] || ("#" + l.key);
    });
    fillTable("table-hour", T.hour, r.by_hour.filter(function (l) { return l.issued > 0; }), function (l) {
      var h = String(l.key).padStart(2, "0");
      return h + ":00–" + String(l.key + 1).padStart(2, "0") + ":00";
    });
  }

  // ---- range ---------------------------------------------------------------------------------

  function setLinks(from, to) {
    var q = "?from=" + from + "&to=" + to;
    ["service", "window", "staff", "hour", "events", "feedback", "appointments"].forEach(function (t) {
      document.getElementById("csv-" + t).href = "/api/v1/reports/" + t + ".csv" + q;
    });
  }

  function load() {
    var from = fromInput.value, to = toInput.value;
    if (!from || !to || from > to) { statusEl.textContent = T.bad_range; return; }
    setLinks(from, to);
    var u = new URL(location.href);
    u.searchParams.set("from", from);
    u.searchParams.set("to", to);
    history.replaceState(null, "", u.pathname + u.search);
    statusEl.textContent = T.loading;
    statusEl.classList.remove("error");
    Q.api("GET", "/api/v1/reports?from=" + from + "&to=" + to).then(
      function (res) {
        render(res.json);
        statusEl.textContent = Q.fill(T.range, { from: res.json.from, to: res.json.to }) +
          (res.json.overall.issued ? "" : " · " + T.no_tickets);
        document.body.setAttribute("data-loaded", from + "/" + to);
      },
      function (err) {
        statusEl.textContent = err.code === "invalid_range" ? T.bad_range : Q.fill(T.error, { message: err.message || err.code || err.status });
        statusEl.classList.add("error");
      }
    );
  }

  var params = new URLSearchParams(location.search);
  if (/^\d{4}-\d{2}-\d{2}$/.test(params.get("from") || "")) fromInput.value = params.get("from");
  if (/^\d{4}-\d{2}-\d{2}$/.test(params.get("to") || "")) toInput.value = params.get("to");

  document.getElementById("range").addEventListener("submit", function (e) {
    e.preventDefault();
    load();
  });
  Array.prototype.forEach.call(document.querySelectorAll("button.quick"), function (b) {
    b.addEventListener("click", function () {
      var days = Number(b.getAttribute("data-days"));
      toInput.value = data.today;
      fromInput.value = days === 1 ? data.today : days === 7 ? data.week_ago : data.month_ago;
      load();
    });
  });
  load();
})();
