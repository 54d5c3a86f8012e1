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
  // A live refresh re-renders a panel; what was typed in its forms (by form id) survives it:
  // each edit is recorded as it happens and put back into the re-rendered form.
  var typed = {};
  function remember(ev) {
    var form = ev.target.form;
    if (!form || !form.id) return;
    var values = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (el.name) values[el.name] = el.type === "checkbox" ? el.checked : el.value;
    });
    typed[form.id] = values;
  }
  document.addEventListener("input", remember);
  document.addEventListener("change", remember);
  var focused = null;
  document.addEventListener("focusin", function (ev) {
    var el = ev.target;
    focused = el.form && el.form.id && el.name ? {form: el.form.id, name: el.name} : null;
  });
  document.addEventListener("htmx:afterSwap", function () {
    if (focused && !document.activeElement.form) {
      var again = document.getElementById(focused.form);
      if (again && again.elements[focused.name]) again.elements[focused.name].focus();
    }
    Object.keys(typed).forEach(function (id) {
      var form = document.getElementById(id);
      if (!form) return;  // kept until a refresh brings the form back
      Array.prototype.forEach.call(form.elements, function (el) {
        if (!(el.name in typed[id])) return;
        if (el.type === "checkbox") el.checked = typed[id][el.name];
        else el.value = typed[id][el.name];
      });
    });
  });
  setInterval(tick, 1000);
  document.addEventListener("DOMContentLoaded", tick);
  document.addEventListener("htmx:afterSwap", tick);
})();
