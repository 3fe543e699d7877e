// /manage/staffing: asks GET /api/v1/staffing/advice for the chosen service, weeks and goal
// and draws the week × hour grid: windows needed / windows open, red where short; above it the
// coming seven days: windows needed / people who can open one, the short hours named.
(function () {
  "use strict";
  var Q = window.Qhall;
  var S = JSON.parse(document.getElementById("staffing-strings").textContent);
  var C = S.coming;
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

  // "Tue 9 Dec" / "周二 12月9日" for an ISO date and its ISO weekday.
  function dayLabel(day, weekday) {
    var m = Number(day.slice(5, 7)), d = Number(day.slice(8, 10));
    return Q.fill(C.dayDate, { wd: S.days[weekday - 1], m: m, d: d, mon: C.months[m - 1] });
  }

  // One plain sentence for a run of short hours with the same figures.
  function shortSentence(r) {
    var v = {
      day: dayLabel(r.day, r.weekday), from: pad(r.from) + ":00", to: pad(r.to) + ":00",
      n: r.needed, a: r.available
    };
    var text = Q.fill(r.available > 0 ? C.shortHour : r.needed === 1 ? C.shortHour1 : C.shortHourNone, v);
    return text + (r.on_leave > 0 ? Q.fill(C.shortHourLeave, { l: r.on_leave }) : "");
  }

  // The coming seven days: per day and opening hour, windows needed over the people who can
  // open one (on shift, less approved leave); the short hours red and named above the table.
  function renderComing(a) {
    var table = $("coming-grid");
    var thead = table.tHead, tbody = table.tBodies[0];
    thead.textContent = ""; tbody.textContent = "";
    var summary = $("coming-summary"), list = $("coming-short"), note = $("coming-unrostered");
    list.textContent = "";
    note.hidden = a.without_shifts.length === 0;
    note.textContent = Q.fill(C.unrostered, { names: a.without_shifts.join(C.comma) });

    var open = false, anyone = false, lo = 24, hi = -1;
    a.coming.forEach(function (d) {
      d.hours.forEach(function (h) {
        open = true;
        if (h.rostered > 0) anyone = true;
        if (h.needed > 0 || h.rostered > 0) { lo = Math.min(lo, h.hour); hi = Math.max(hi, h.hour); }
      });
    });
    summary.className = "advice-summary";
    if (!open) summary.textContent = C.closed;
    else if (!anyone) summary.textContent = C.noShifts;
    else if (a.short_hours.length === 0) {
      summary.textContent = C.enough;
      summary.className = "advice-summary level-ok";
    } else {
      var n = a.short_hours.length;
      summary.textContent = n === 1 ? C.shortOne : Q.fill(C.shortMany, { n: n });
      summary.className = "advice-summary level-bad";
      // Hours next to each other on the same day with the same figures read as one stretch.
      var runs = [];
      a.short_hours.forEach(function (s) {
        var last = runs[runs.length - 1];
        if (last && last.day === s.day && last.to === s.hour && last.needed === s.needed &&
            last.available === s.available && last.on_leave === s.on_leave) {
          last.to = s.hour + 1;
        } else {
          runs.push({ day: s.day, weekday: s.weekday, from: s.hour, to: s.hour + 1, needed: s.needed,
            available: s.available, on_leave: s.on_leave });
        }
      });
      runs.forEach(function (r) {
        list.appendChild(Q.el("li", { "data-day": r.day, "data-hour": r.from }, shortSentence(r)));
      });
    }
    table.hidden = !anyone || hi < 0;
    if (table.hidden) return;

    var hr = Q.el("tr");
    hr.appendChild(Q.el("th"));
    for (var h = lo; h <= hi; h++) hr.appendChild(Q.el("th", { class: "num" }, pad(h)));
    thead.appendChild(hr);
    a.coming.forEach(function (d) {
      var tr = Q.el("tr", { "data-day": d.day });
      var label = dayLabel(d.day, d.weekday);
      tr.appendChild(Q.el("th", { scope: "row" }, label));
      if (d.hours.length === 0) {
        tr.appendChild(Q.el("td", { class: "closed advice-note", colspan: hi - lo + 1 }, C.closedDay));
        tbody.appendChild(tr);
        return;
      }
      for (var h = lo; h <= hi; h++) {
        var c = d.hours.filter(function (x) { return x.hour === h; })[0];
        if (!c) {
          var shut = Q.el("td", { class: "cell closed", "data-hour": h, title: label + " " + pad(h) + ":00 — " + C.closedHour });
          shut.appendChild(Q.el("span", { class: "open" }, "–"));
          tr.appendChild(shut);
          continue;
        }
        var cls = "cell";
        if (c.short > 0) cls += " short";
        else if (c.needed > 0) cls += " met";
        else if (c.available > 0) cls += " spare";
        var td = Q.el("td", {
          class: cls, "data-hour": h,
          title: Q.fill(C.cell, { day: label, h: pad(h), n: c.needed, r: c.rostered, l: c.on_leave, a: c.available })
        });
        td.appendChild(Q.el("span", { class: "needed" }, String(c.needed)));
        td.appendChild(Q.el("span", { class: "open" }, String(c.available)));
        tr.appendChild(td);
      }
      tbody.appendChild(tr);
    });
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
    Q.api("GET", "/api/v1/staffing/advice" + q).then(function (r) { render(r.json); renderComing(r.json); renderBooked(r.json); }, function (e) {
      if (e.status === 401) { location.reload(); return; }
      msg.textContent = S.errors[e.code] || e.message || S.errors.network;
      msg.className = "message level-bad";
    });
  }

  $("advice-form").addEventListener("submit", function (e) { e.preventDefault(); load(); });
  $("advice-service").addEventListener("change", load);
  load();
})();
