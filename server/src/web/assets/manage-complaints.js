// /manage/complaints: the register. Loads the list with the filters, opens one complaint
// beside it (history, assign, note + status, the contact on request), and keeps the retention
// period. Everything goes through Qhall.api (session cookie + CSRF token).
(function () {
  "use strict";
  var Q = window.Qhall;
  var S = JSON.parse(document.getElementById("strings").textContent);
  var $ = function (id) { return document.getElementById(id); };
  var current = null; // the id of the complaint open beside the list

  var dateTime = new Intl.DateTimeFormat(S.locale, {
    timeZone: S.tz, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false
  });
  var dateOnly = new Intl.DateTimeFormat(S.locale, {
    timeZone: S.tz, year: "numeric", month: "2-digit", day: "2-digit"
  });
  function when(iso) { return iso ? dateTime.format(new Date(iso)) : S.none; }
  function day(iso) { return iso ? dateOnly.format(new Date(iso)) : S.none; }

  function explain(err) {
    return S.error[err.code] || (S.error.other + (err.message || err.code || err.status));
  }

  function badge(status, overdue) {
    var span = Q.el("span", { "class": "status status-" + status }, S.status[status] || status);
    if (!overdue) return [span];
    return [span, Q.el("span", { "class": "status status-overdue" }, S.overdue)];
  }

  function where(c) {
    var parts = [];
    if (c.window) parts.push(Q.fill(S.window, { n: c.window }));
    if (c.ticket) parts.push(Q.fill(S.ticket, { n: c.ticket }));
    return parts.length ? parts.join(" · ") : S.none;
  }

  function query() {
    var p = new URLSearchParams();
    [["status", "f-status"], ["category", "f-category"], ["from", "f-from"], ["to", "f-to"]].forEach(function (f) {
      var v = $(f[1]).value;
      if (v) p.set(f[0], v);
    });
    if ($("f-overdue").checked) p.set("overdue", "true");
    var s = p.toString();
    return s ? "?" + s : "";
  }

  // "Complaint · Staff attitude", or the kind alone for a follow-up of a rating.
  function kindOf(c) {
    var kind = (S.kinds && S.kinds[c.kind]) || c.kind;
    if (c.kind === "follow_up") return kind;
    return kind + " · " + (S.categories[c.category] || c.category);
  }

  function row(c) {
    var tr = Q.el("tr", { "data-id": String(c.id), tabindex: "0", "class": c.overdue ? "overdue" : "" });
    if (c.id === current) tr.classList.add("selected");
    tr.appendChild(Q.el("td", { "class": "num" }, String(c.id)));
    tr.appendChild(Q.el("td", { "class": "nowrap" }, when(c.created_at)));
    tr.appendChild(Q.el("td", { "class": "nowrap" }, kindOf(c)));
    tr.appendChild(Q.el("td", { "class": "text" }, c.description));
    tr.appendChild(Q.el("td", { "class": "nowrap wide-only" }, c.window ? String(c.window) : S.none));
    var st = Q.el("td", { "class": "nowrap" });
    badge(c.status, c.overdue).forEach(function (b) { st.appendChild(b); });
    tr.appendChild(st);
    tr.appendChild(Q.el("td", { "class": "nowrap wide-only" }, c.assigned_name || S.none));
    tr.appendChild(Q.el("td", { "class": "nowrap" + (c.overdue ? " due-late" : "") }, day(c.due_at)));
    tr.appendChild(Q.el("td", { "class": "nowrap contact wide-only" }, c.contact || S.none));
    tr.addEventListener("click", function () { open(c.id); });
    tr.addEventListener("keydown", function (e) { if (e.key === "Enter") open(c.id); });
    return tr;
  }

  function load() {
    $("list-msg").textContent = "";
    return Q.api("GET", "/api/v1/complaints" + query()).then(function (r) {
      // What needs doing first: overdue, then the rest still open, then resolved; newest first
      // within each (the order the server gives).
      var rank = function (c) { return c.overdue ? 0 : c.status === "resolved" ? 2 : 1; };
      var list = r.json.complaints
        .map(function (c, i) { return { c: c, i: i }; })
        .sort(function (a, b) { return rank(a.c) - rank(b.c) || a.i - b.i; })
        .map(function (x) { return x.c; });
      var body = document.querySelector("#complaints tbody");
      body.textContent = "";
      list.forEach(function (c) { body.appendChild(row(c)); });
      $("empty").hidden = list.length > 0;
      var sum = $("summary");
      sum.textContent = Q.fill(S.summary, { n: list.length, overdue: r.json.overdue });
      sum.classList.toggle("has-overdue", r.json.overdue > 0);
    }, function (err) {
      $("list-msg").textContent = explain(err);
      $("list-msg").className = "message error";
    });
  }

  function historyItem(h) {
    var li = Q.el("li");
    li.appendChild(Q.el("span", { "class": "h-when" }, when(h.at) + " · " + (h.by_name || S.none)));
    var what = [];
    if (h.from_status && h.to_status) {
      what.push(Q.fill(S.changed, { from: S.status[h.from_status], to: S.status[h.to_status] }));
    }
    if (h.assigned_name) what.push(Q.fill(S.assigned, { who: h.assigned_name }));
    if (what.length) li.appendChild(Q.el("span", { "class": "h-change" }, what.join(" · ")));
    if (h.text) li.appendChild(Q.el("p", { "class": "h-text" }, h.text));
    return li;
  }

  function show(d) {
    current = d.id;
    $("detail").hidden = false;
    $("d-title").textContent = "#" + d.id + " · " + kindOf(d);
    var st = $("d-status");
    st.textContent = "";
    badge(d.status, d.overdue).forEach(function (b) { st.appendChild(b); });
    var taken = d.source === "customer" ? S.fromCustomer : d.source === "rating" ? S.fromRating : S.takenBy;
    var line = Q.fill(taken, { at: when(d.created_at), who: d.taken_by_name || S.none });
    if (d.about_name) line += " · " + Q.fill(S.about, { who: d.about_name });
    if (d.called_back_at) line += " · " + Q.fill(S.calledBack, { at: when(d.called_back_at) });
    if (d.outcome) line += " · " + S.outcomes[d.outcome];
    $("d-taken").textContent = line;
    $("called-back-row").hidden = d.source === "window" || !d.contact || !!d.called_back_at || d.status === "resolved";
    $("note-called-back").checked = false;
    $("d-where").textContent = where(d);
    $("d-due").textContent = day(d.due_at) + (d.overdue ? " · " + S.overdue : "");
    $("d-due").className = d.overdue ? "due-late" : "";
    $("d-assigned").textContent = d.assigned_name || S.none;
    $("d-contact").textContent = d.contact || S.noContact;
    $("d-reveal").hidden = !d.contact;
    $("d-description").textContent = d.description;
    var resolved = d.status === "resolved";
    $("assign-form").hidden = resolved;
    if (d.assigned_to) $("assign-to").value = String(d.assigned_to);
    var hist = $("d-history");
    hist.textContent = "";
    d.history.forEach(function (h) { hist.appendChild(historyItem(h)); });
    if (!d.history.length) hist.appendChild(Q.el("li", { "class": "h-none" }, S.noHistory));
    // Only the moves the server allows from here.
    Array.prototype.forEach.call($("note-status").options, function (o) {
      o.disabled = o.value !== "" && (resolved || o.value === d.status);
    });
    $("note-status").value = "";
    $("outcome-row").hidden = true;
    $("note-outcome").value = "";
    $("note-about").value = d.about ? String(d.about) : "";
    document.querySelectorAll("#complaints tbody tr").forEach(function (tr) {
      tr.classList.toggle("selected", tr.getAttribute("data-id") === String(d.id));
    });
  }

  function open(id) {
    $("d-msg").textContent = "";
    return Q.api("GET", "/api/v1/complaints/" + id).then(function (r) { show(r.json); }, function (err) {
      $("list-msg").textContent = explain(err);
      $("list-msg").className = "message error";
    });
  }

  function done(promise) {
    var msg = $("d-msg");
    return promise.then(function () {
      msg.textContent = S.saved;
      msg.className = "message ok";
      return Promise.all([open(current), load()]).then(function () {
        msg.textContent = S.saved;
        msg.className = "message ok";
      });
    }, function (err) {
      msg.textContent = explain(err);
      msg.className = "message error";
    });
  }

  $("filters").addEventListener("submit", function (e) { e.preventDefault(); load(); });
  ["f-status", "f-category", "f-overdue"].forEach(function (id) {
    $(id).addEventListener("change", load);
  });
  $("d-close").addEventListener("click", function () {
    current = null;
    $("detail").hidden = true;
    document.querySelectorAll("#complaints tbody tr.selected").forEach(function (tr) { tr.classList.remove("selected"); });
  });
  $("d-reveal").addEventListener("click", function () {
    Q.api("POST", "/api/v1/complaints/" + current + "/contact").then(function (r) {
      $("d-contact").textContent = r.json.contact || S.purged;
      $("d-reveal").hidden = true;
    }, function (err) {
      $("d-msg").textContent = explain(err);
      $("d-msg").className = "message error";
    });
  });
  $("assign-form").addEventListener("submit", function (e) {
    e.preventDefault();
    done(Q.api("POST", "/api/v1/complaints/" + current + "/assign", { user_id: Number($("assign-to").value) }));
  });
  // The outcome and the person concerned are said when resolving.
  $("note-status").addEventListener("change", function () {
    $("outcome-row").hidden = $("note-status").value !== "resolved";
  });
  $("note-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var body = { text: $("note-text").value };
    var status = $("note-status").value;
    if (status) body.status = status;
    if ($("note-called-back").checked) body.called_back = true;
    if (status === "resolved" && $("note-outcome").value) body.outcome = $("note-outcome").value;
    if (status === "resolved" && $("note-about").value) body.about = Number($("note-about").value);
    done(Q.api("POST", "/api/v1/complaints/" + current + "/notes", body).then(function (r) {
      $("note-text").value = "";
      return r;
    }));
  });

  Q.api("GET", "/api/v1/complaints/retention").then(function (r) { $("retention-days").value = r.json.days; });
  $("retention-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var msg = $("retention-msg");
    Q.api("PUT", "/api/v1/complaints/retention", { days: Number($("retention-days").value) }).then(function (r) {
      $("retention-days").value = r.json.days;
      msg.textContent = S.saved;
      msg.className = "message ok";
    }, function (err) {
      msg.textContent = explain(err);
      msg.className = "message error";
    });
  });

  load();
})();
