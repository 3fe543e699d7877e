// /manage/settings: each form is sent to the configuration API; once saved the page reloads,
// so what it shows (the new audit entry too) is what the server has. A new device's token is
// shown in place, once.
(function () {
  "use strict";
  var Q = window.Qhall;
  if (!Q) return;

  function tpl(id) {
    var t = document.getElementById(id);
    return t ? t.content.textContent : "";
  }

  function field(form, name) {
    var e = form.elements.namedItem(name);
    return e ? e.value.trim() : "";
  }

  function checked(form, name) {
    var e = form.elements.namedItem(name);
    return !!(e && e.checked);
  }

  function num(form, name) {
    return Number(field(form, name));
  }

  // "08:00-12:00, 13:00-17:30" → [["08:00","12:00"],["13:00","17:30"]]; null if unreadable.
  function periods(text) {
    var out = [];
    var parts = text.split(/[,，;；]/);
    for (var i = 0; i < parts.length; i++) {
      var p = parts[i].trim();
      if (!p) continue;
      var m = p.match(/^(\d{1,2}:\d{2})\s*[-–—~至到]\s*(\d{1,2}:\d{2})$/);
      if (!m) return null;
      out.push([pad(m[1]), pad(m[2])]);
    }
    return out;
  }

  function pad(t) {
    return t.length === 4 ? "0" + t : t;
  }

  function text(form, prefix) {
    return { zh: field(form, prefix + "_zh"), zh_hant: field(form, prefix + "_zh_hant"), en: field(form, prefix + "_en") };
  }

  function say(form, kind, message) {
    var m = form.querySelector(".message");
    if (!m) return;
    m.className = "message " + kind;
    m.textContent = message;
  }

  function failed(form, err) {
    var t = err && err.code ? tpl("err-" + err.code) : "";
    say(form, "error", t || (err && err.message) || "error");
  }

  // Remembers which form was saved, for the message after the reload.
  function savedReload(form) {
    try { sessionStorage.setItem("qhall-settings-saved", form.id || ""); } catch (e) { /* private mode */ }
    location.reload();
  }

  // The API call each form makes: [method, path, body] (or a string: a message to show).
  var builders = {
    "emergency-on": function (f) {
      return ["PUT", "/api/v1/emergency", { message: field(f, "message") }];
    },
    "emergency-off": function () {
      return ["DELETE", "/api/v1/emergency"];
    },
    service: function (f) {
      return ["PUT", "/api/v1/config/services/" + f.dataset.code, {
        name: text(f, "name"),
        guide: text(f, "guide"),
        target_wait_secs: num(f, "target_min") * 60,
        first_number: num(f, "first_number"),
        last_number: num(f, "last_number"),
        priority_allowed: checked(f, "priority_allowed"),
        default_service_secs: num(f, "default_service_min") * 60,
        enabled: checked(f, "enabled"),
        carry_over: checked(f, "carry_over"),
        remote_tickets: checked(f, "remote_tickets"),
        identity_check: f.elements.identity_check.value
      }];
    },
    appointments: function (f) {
      var prefix = field(f, "prefix").toUpperCase();
      return ["PUT", "/api/v1/config/services/" + f.dataset.code + "/appointments", {
        enabled: checked(f, "enabled"),
        slot_mins: num(f, "slot_mins"),
        places: num(f, "places"),
        horizon_days: num(f, "horizon_days"),
        lead_mins: num(f, "lead_mins"),
        checkin_before_mins: num(f, "checkin_before_mins"),
        checkin_after_mins: num(f, "checkin_after_mins"),
        prefix: prefix || null
      }];
    },
    "service-delete": function (f) {
      return ["DELETE", "/api/v1/config/services/" + f.dataset.code];
    },
    "service-new": function (f) {
      return ["POST", "/api/v1/config/services", {
        code: field(f, "code").toUpperCase(),
        name: { zh: field(f, "name_zh"), en: field(f, "name_en") },
        target_wait_secs: num(f, "target_min") * 60
      }];
    },
    window: function (f) {
      var serves = [];
      var selects = document.querySelectorAll('select[form="' + f.id + '"][name="serve"]');
      var weights = document.querySelectorAll('input[form="' + f.id + '"][name="weight"]');
      for (var i = 0; i < selects.length; i++) {
        if (selects[i].value) serves.push({ service: selects[i].value, weight: Number(weights[i].value) || 1 });
      }
      var name = document.querySelector('input[form="' + f.id + '"][name="name"]');
      return ["PUT", "/api/v1/config/windows/" + f.dataset.n, { name: name ? name.value.trim() : "", serves: serves }];
    },
    "window-new": function (f) {
      return ["POST", "/api/v1/config/windows", { number: num(f, "number"), name: field(f, "name"), serves: [] }];
    },
    hours: function (f) {
      var days = f.querySelectorAll('input[name="day"]');
      var weekly = [];
      for (var i = 0; i < days.length; i++) {
        var p = periods(days[i].value);
        if (p === null) { days[i].focus(); return tpl("msg-bad-hours"); }
        weekly.push(p);
      }
      return ["PUT", "/api/v1/config/hours", { time_zone: field(f, "time_zone"), weekly: weekly, cutoff_mins: num(f, "cutoff_mins"), closing_grace_mins: num(f, "closing_grace_mins") }];
    },
    exception: function (f) {
      var p = periods(field(f, "periods"));
      if (p === null) return tpl("msg-bad-hours");
      return ["PUT", "/api/v1/config/exceptions/" + field(f, "date"), {
        periods: p, note: field(f, "note"), note_zh_hant: field(f, "note_zh_hant"), note_en: field(f, "note_en")
      }];
    },
    "messages": function (f) {
      var templates = Array.prototype.map.call(f.querySelectorAll("textarea[name=template]"), function (t) {
        return { kind: t.dataset.kind, lang: t.dataset.lang, text: t.value };
      });
      return ["PUT", "/api/v1/config/messages", {
        notify_ahead: num(f, "notify_ahead"), follow_up_days: num(f, "follow_up_days"),
        remote_share_pct: num(f, "remote_share_pct"), remote_hold_mins: num(f, "remote_hold_mins"),
        templates: templates
      }];
    },
    "public": function (f) {
      return ["PUT", "/api/v1/config/branch", { phone: field(f, "phone"), address: field(f, "address"), notice_days: num(f, "notice_days") }];
    },
    "exception-delete": function (f) {
      return ["DELETE", "/api/v1/config/exceptions/" + f.dataset.date];
    },
    notice: function (f) {
      return ["PUT", "/api/v1/config/notices/" + f.dataset.id, noticeBody(f)];
    },
    "notice-delete": function (f) {
      return ["DELETE", "/api/v1/config/notices/" + f.dataset.id];
    },
    "notice-new": function (f) {
      return ["POST", "/api/v1/config/notices", noticeBody(f)];
    },
    "user-new": function (f) {
      return ["POST", "/api/v1/users", {
        username: field(f, "username"), display_name: field(f, "display_name"),
        role: field(f, "role"), password: f.elements.namedItem("password").value
      }];
    },
    password: function (f) {
      return ["POST", "/api/v1/users/" + f.dataset.id + "/password", { password: f.elements.namedItem("password").value }];
    },
    deactivate: function (f) {
      return ["DELETE", "/api/v1/users/" + f.dataset.id];
    },
    "device-new": function (f) {
      var body = { name: field(f, "name"), role: field(f, "role") };
      if (body.role === "pad") body.window = Number(field(f, "window"));
      return ["POST", "/api/v1/devices", body];
    },
    revoke: function (f) {
      return ["DELETE", "/api/v1/devices/" + f.dataset.id];
    }
  };

  function noticeBody(f) {
    return {
      text: text(f, "text"),
      from: field(f, "from") || null,
      until: field(f, "until") || null
    };
  }

  function send(form, kind) {
    var call = builders[kind](form);
    if (typeof call === "string") { say(form, "error", call); return; }
    var buttons = form.querySelectorAll("button");
    buttons.forEach(function (b) { b.disabled = true; });
    say(form, "info", "…");
    Q.api(call[0], call[1], call[2]).then(
      function (r) {
        if (kind === "device-new" && r.json && r.json.token) {
          showToken(r.json.token, r.json.pairing_url);
          buttons.forEach(function (b) { b.disabled = false; });
          say(form, "ok", "");
          return;
        }
        savedReload(form);
      },
      function (err) {
        buttons.forEach(function (b) { b.disabled = false; });
        failed(form, err);
      }
    );
  }

  function showToken(token, pairing) {
    var box = document.getElementById("device-token");
    document.getElementById("device-token-value").textContent = token;
    document.getElementById("device-pairing-url").textContent = pairing || "";
    document.getElementById("device-pairing").hidden = !pairing;
    box.hidden = false;
    box.scrollIntoView({ block: "center" });
  }

  // A pad is bound to a window: the window choice shows only for pads.
  var newDevice = document.getElementById("device-new");
  if (newDevice) {
    var role = newDevice.elements.namedItem("role");
    var padWindow = newDevice.elements.namedItem("window");
    var toggle = function () { padWindow.hidden = role.value !== "pad"; };
    role.addEventListener("change", toggle);
    toggle();
  }

  var done = document.getElementById("device-token-done");
  if (done) done.addEventListener("click", function () { location.reload(); });

  document.querySelectorAll("form.api-form").forEach(function (form) {
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var kind = form.dataset.form;
      var submitter = e.submitter;
      var ask = submitter && submitter.dataset.confirm;
      if (ask && !window.confirm(tpl("msg-confirm-" + ask))) return;
      send(form, kind);
    });
    // Delete buttons inside an edit form: the same form, another call.
    form.querySelectorAll("button.delete").forEach(function (b) {
      b.addEventListener("click", function () {
        if (!window.confirm(tpl("msg-confirm-" + (b.dataset.confirm || "delete")))) return;
        send(form, form.dataset.form + "-delete");
      });
    });
  });

  // After a reload: say "Saved" where the change was made.
  try {
    var id = sessionStorage.getItem("qhall-settings-saved");
    sessionStorage.removeItem("qhall-settings-saved");
    var form = id && document.getElementById(id);
    if (form) say(form, "ok", tpl("msg-saved"));
  } catch (e) { /* private mode */ }
})();
