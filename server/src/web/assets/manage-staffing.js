// /manage/staffing: asks GET /api/v1/staffing/advice for the chosen service, weeks and goal
// and draws the week × hour grid: windows needed / windows open, red where short.
(function () {
  "use strict";
  var Q = window.Qhall;
  var S = JSON.parse(document.getElementById("staffing-strings").textContent);
  function $(id) { return document.getElementById(id); }
  function name(loc) { return (loc && (loc[Q.lang] || loc.zh || loc.en)) || ""; }
  function one(x) { return (Math.round(x * 10) / 10).toString(); }
  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function render(a) {
    var basis = $("advice-basis");
    basis.textContent = "";
    basis.appendChild(Q.el("span", { class: "period" }, Q.fill(S.period, {
      from: a.from, to: a.to, weeks: a.weeks, goal: Math.round(a.goal * 100)
    })));
    a.services.forEach(function (s) {
      basis.appendChild(document.createTextNode(" "));
      basis.appendChild(Q.el("span", { class: "svc" }, Q.fill(S.service, {
        code: s.service, name: name(s.name), arrivals: s.arrivals,
        mean: one(s.mean_service_secs / 60), default: s.default_service_time ? S.defaultTime : "",
        target: Math.round(s.target_wait_secs / 60)
      })));
    });

    // The hours worth showing: from the first to the last with any demand or open window.
    var lo = 24, hi = -1;
    a.days.forEach(function (d) {
      d.hours.forEach(function (h) {
        if (h.needed > 0 || h.open > 0.005 || h.arrivals_per_hour > 0) {
          lo = Math.min(lo, h.hour); hi = Math.max(hi, h.hour);
        }
      });
    });
    var table = $("advice-grid");
    var thead = table.tHead, tbody = table.tBodies[0];
    thead.textContent = ""; tbody.textContent = "";
    var summary = Q.el("p", { class: "advice-summary", id: "advice-summary" });
    if (hi < 0) {
      summary.textContent = S.empty;
      basis.appendChild(summary);
      return;
    }
    var hr = Q.el("tr");
    hr.appendChild(Q.el("th"));
    for (var h = lo; h <= hi; h++) hr.appendChild(Q.el("th", { class: "num" }, pad(h)));
    thead.appendChild(hr);
    var short = 0;
    a.days.forEach(function (d) {
      var tr = Q.el("tr", { "data-weekday": d.weekday });
      tr.appendChild(Q.el("th", { scope: "row" }, S.days[d.weekday - 1]));
      for (var h = lo; h <= hi; h++) {
        var c = d.hours[h];
        var cls = "cell";
        if (c.needed > 0 && c.open + 0.05 < c.needed) { cls += " short"; short++; }
        else if (c.needed > 0) cls += " met";
        else if (c.open > 0.005) cls += " spare";
        var td = Q.el("td", {
          class: cls, "data-hour": c.hour,
          title: Q.fill(S.cell, { day: S.days[d.weekday - 1], h: pad(c.hour), a: one(c.arrivals_per_hour), n: c.needed, o: one(c.open) })
        });
        if (c.needed > 0 || c.open > 0.005) {
          td.appendChild(Q.el("span", { class: "needed" }, String(c.needed)));
          td.appendChild(Q.el("span", { class: "open" }, one(c.open)));
        }
        tr.appendChild(td);
      }
      tbody.appendChild(tr);
    });
    summary.textContent = short > 0 ? Q.fill(S.short, { n: short }) : S.noneShort;
    summary.className = "advice-summary " + (short > 0 ? "level-bad" : "level-ok");
    basis.appendChild(summary);
  }

  // The coming week's bookings: per day and hour, the share of the window time they take.
  function renderBooked(a) {
    var table = $("booked-grid");
    var thead = table.tHead, tbody = table.tBodies[0];
    thead.textContent = ""; tbody.textContent = "";
    var lo = 24, hi = -1;
    a.booked.forEach(function (d) { d.hours.forEach(function (h) { lo = Math.min(lo, h.hour); hi = Math.max(hi, h.hour); }); });
    $("booked-empty").hidden = hi >= 0;
    if (hi < 0) return;
    var hr = Q.el("tr");
    hr.appendChild(Q.el("th"));
    for (var h = lo; h <= hi; h++) hr.appendChild(Q.el("th", { class: "num" }, pad(h)));
    thead.appendChild(hr);
    a.booked.forEach(function (d) {
      var tr = Q.el("tr", { "data-day": d.day });
      tr.appendChild(Q.el("th", { scope: "row" }, S.days[d.weekday - 1] + " " + d.day.slice(5)));
      for (var h = lo; h <= hi; h++) {
        var c = d.hours.filter(function (x) { return x.hour === h; })[0];
        var td = Q.el("td", { class: "cell" + (c && (c.share === null || c.share > 0.5) ? " short" : c ? " met" : ""), "data-hour": h });
        if (c) {
          td.textContent = c.share === null ? c.bookings + " / –" : Math.round(c.share * 100) + "%";
          td.title = c.bookings + " · " + one(c.booked_mins) + " / " + one(c.capacity_mins) + " min";
        }
        tr.appendChild(td);
      }
      tbody.appendChild(tr);
    });
  }

  function load() {
    var msg = $("advice-msg");
    msg.textContent = "";
    var q = "?weeks=" + encodeURIComponent($("advice-weeks").value) +
      "&goal=" + encodeURIComponent(Number($("advice-goal").value) / 100);
    var svc = $("advice-service").value;
    if (svc) q += "&service=" + encodeURIComponent(svc);
    Q.api("GET", "/api/v1/staffing/advice" + q).then(function (r) { render(r.json); renderBooked(r.json); }, function (e) {
      if (e.status === 401) { location.reload(); return; }
      msg.textContent = S.errors[e.code] || e.message || S.errors.network;
      msg.className = "message level-bad";
    });
  }

  $("advice-form").addEventListener("submit", function (e) { e.preventDefault(); load(); });
  $("advice-service").addEventListener("change", load);
  load();
})();
