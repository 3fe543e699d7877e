// /book: service → day → free slot → an optional number → the booking's own page; and on that
// page, cancelling (asked twice) the booking. Moving a booking is booking the new time with
// `move=CODE`: once the new one is made, the old one is cancelled. Every text comes from the
// page (data-* attributes), in the page's language; times are shown in the hall's own zone.
(function () {
  "use strict";

  function $(id) { return document.getElementById(id); }

  function send(method, url, body) {
    return fetch(url, {
      method: method,
      headers: body ? { "content-type": "application/json" } : {},
      credentials: "omit",
      body: body ? JSON.stringify(body) : undefined
    }).then(function (r) {
      return r.json().then(function (v) { return [r.status, v]; }, function () { return [r.status, null]; });
    });
  }

  // ---- the booking form ----------------------------------------------------------------------
  var card = $("book");
  var form = $("book-form");
  if (card && form) {
    var service = $("book-service");
    var days = $("book-days");
    var slots = $("book-slots");
    var empty = $("book-slots-empty");
    var submit = $("book-submit");
    var err = $("book-error");
    var chosenDay = null;
    var chosenSlot = null;
    var fmt = new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: card.dataset.tz });

    var show = function (text) { err.textContent = text; err.hidden = false; };
    var ready = function () { submit.disabled = !(chosenDay && chosenSlot); };

    var chip = function (text, value, onPick) {
      var b = document.createElement("button");
      b.type = "button";
      b.className = "chip";
      b.setAttribute("role", "radio");
      b.setAttribute("aria-checked", "false");
      b.dataset.value = value;
      b.textContent = text;
      b.addEventListener("click", function () {
        Array.prototype.forEach.call(b.parentNode.children, function (c) { c.setAttribute("aria-checked", "false"); });
        b.setAttribute("aria-checked", "true");
        onPick(value);
      });
      return b;
    };

    var loadSlots = function () {
      slots.textContent = "";
      empty.hidden = true;
      chosenSlot = null;
      ready();
      if (!chosenDay) return;
      var q = "?service=" + encodeURIComponent(service.value) + "&day=" + encodeURIComponent(chosenDay) +
        "&branch=" + encodeURIComponent(card.dataset.branch);
      send("GET", "/api/v1/appointments/slots" + q).then(function (res) {
        var free = res[0] === 200 ? res[1].filter(function (s) { return s.free > 0; }) : [];
        if (!free.length) { empty.textContent = card.dataset.noSlots; empty.hidden = false; return; }
        free.forEach(function (s) {
          slots.appendChild(chip(fmt.format(new Date(s.start)), s.start, function (v) { chosenSlot = v; ready(); }));
        });
      }).catch(function () { show(card.dataset.failed); });
    };

    var loadDays = function () {
      days.textContent = "";
      chosenDay = null;
      var opt = service.options[service.selectedIndex];
      var list = [];
      try { list = JSON.parse(opt ? opt.dataset.days : "[]"); } catch (e) { list = []; }
      list.forEach(function (d) {
        days.appendChild(chip(d.label, d.day, function (v) { chosenDay = v; loadSlots(); }));
      });
      loadSlots();
    };

    service.addEventListener("change", loadDays);
    loadDays();

    form.addEventListener("submit", function (e) {
      e.preventDefault();
      err.hidden = true;
      var mobile = $("book-mobile").value.trim();
      if (mobile && !$("book-consent").checked) { show(card.dataset.consent); return; }
      submit.disabled = true;
      var body = { branch: Number(card.dataset.branch), service: service.value, start: chosenSlot, lang: card.dataset.lang };
      if (mobile) body.mobile = mobile;
      send("POST", "/api/v1/appointments", body).then(function (res) {
        var code = res[1] && res[1].error && res[1].error.code;
        if (res[0] === 201) {
          var go = function () {
            location.href = "/book/" + encodeURIComponent(res[1].code) + "?new=1&lang=" + encodeURIComponent(card.dataset.lang);
          };
          var old = card.dataset.move;
          if (old) {
            send("POST", "/api/v1/appointments/" + encodeURIComponent(old) + "/cancel").then(go, go);
          } else {
            go();
          }
          return;
        }
        ready();
        if (code === "slot_full") { show(card.dataset.full); loadSlots(); }
        else if (code === "already_booked") show(card.dataset.already);
        else if (code === "invalid_mobile") show(card.dataset.invalid);
        else if (res[0] === 429) show(card.dataset.busy);
        else show(card.dataset.failed + (res[1] && res[1].error ? " (" + res[1].error.message + ")" : ""));
      }).catch(function () { ready(); show(card.dataset.failed); });
    });
  }

  // ---- the booking's own page: cancel, asked twice ---------------------------------------------
  var booking = $("booking");
  var cancel = $("booking-cancel");
  var confirm = $("booking-cancel-confirm");
  if (booking && cancel && confirm) {
    cancel.addEventListener("click", function () { cancel.hidden = true; confirm.hidden = false; confirm.focus(); });
    confirm.addEventListener("click", function () {
      confirm.disabled = true;
      send("POST", "/api/v1/appointments/" + encodeURIComponent(booking.dataset.code) + "/cancel").then(function (res) {
        if (res[0] === 200) { location.reload(); return; }
        confirm.disabled = false;
        var e = $("booking-error");
        e.textContent = booking.dataset.failed + (res[1] && res[1].error ? " (" + res[1].error.message + ")" : "");
        e.hidden = false;
      }).catch(function () { confirm.disabled = false; });
    });
  }
})();
