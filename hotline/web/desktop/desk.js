// Hotline pages: forms marked data-api are sent to the JSON API (with the session's CSRF
// token), and elements with data-since / data-due count up / down from the server's time.
(function () {
  "use strict";
  function csrf() {
    try { return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRF-Token"]; } catch (e) { return ""; }
  }
  document.addEventListener("submit", async function (ev) {
    var form = ev.target;
    if (!form.matches("form[data-api]")) return;
    ev.preventDefault();
    var body = {};
    new FormData(form).forEach(function (value, key) { if (key !== "csrf_token") body[key] = value; });
    form.querySelectorAll("[data-bool]").forEach(function (el) { body[el.name] = el.checked; });
    form.querySelectorAll("[data-null]").forEach(function (el) { if (body[el.name] === "") body[el.name] = null; });
    form.querySelectorAll("[data-omit-empty]").forEach(function (el) { if (body[el.name] === "") delete body[el.name]; });
    if (ev.submitter && ev.submitter.name) body[ev.submitter.name] = ev.submitter.value;
    var out = form.querySelector(".api-error");
    var response = await fetch(form.dataset.api, {
      method: form.dataset.method || "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf()}, body: JSON.stringify(body),
    });
    var data = await response.json().catch(function () { return {}; });
    if (!response.ok) {
      if (out) out.textContent = data.message || String(response.status);
      return;
    }
    if (form.dataset.then) location.href = form.dataset.then.replace("{number}", data.number || "");
    else location.reload();
  });
  function clock(seconds) {
    var s = Math.abs(Math.floor(seconds)), h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60;
    var text = (h ? h + ":" : "") + String(m).padStart(2, "0") + ":" + String(s % 60).padStart(2, "0");
    return (seconds < 0 ? "-" : "") + text;
  }
  function tick() {
    document.querySelectorAll("[data-now]").forEach(function (el) {
      if (!el._t0) el._t0 = Date.now();
      var now = parseFloat(el.dataset.now) + (Date.now() - el._t0) / 1000;
      if (el.dataset.since) el.textContent = clock(now - parseFloat(el.dataset.since));
      if (el.dataset.due) {
        var left = parseFloat(el.dataset.due) - now;
        el.textContent = clock(left);
        el.classList.toggle("overdue", left < 0);
      }
    });
  }
  // A live refresh re-renders a panel; what was typed in its forms (by form id) survives it.
  var typed = {};
  document.addEventListener("input", function (ev) {
    var form = ev.target.form;
    if (form && form.id) form.dataset.dirty = "1";
  });
  document.addEventListener("change", function (ev) {
    var form = ev.target.form;
    if (form && form.id) form.dataset.dirty = "1";
  });
  document.addEventListener("htmx:beforeSwap", function (ev) {
    typed = {};
    ev.detail.target.querySelectorAll("form[id][data-dirty]").forEach(function (form) {
      var values = {};
      Array.prototype.forEach.call(form.elements, function (el) {
        if (!el.name) return;
        values[el.name] = el.type === "checkbox" ? el.checked : el.value;
      });
      typed[form.id] = values;
    });
  });
  document.addEventListener("htmx:afterSwap", function (ev) {
    Object.keys(typed).forEach(function (id) {
      var form = document.getElementById(id);
      if (!form) return;
      form.dataset.dirty = "1";
      Array.prototype.forEach.call(form.elements, function (el) {
        if (!(el.name in typed[id])) return;
        if (el.type === "checkbox") el.checked = typed[id][el.name];
        else el.value = typed[id][el.name];
      });
    });
    typed = {};
  });
  setInterval(tick, 1000);
  document.addEventListener("DOMContentLoaded", tick);
  document.addEventListener("htmx:afterSwap", tick);
})();
