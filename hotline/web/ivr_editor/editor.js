// The IVR editor's code view: a textarea over a highlighted copy of its text (a small YAML
// tokenizer of our own), line numbers with the checker's errors marked, "go to line" from
// an issue or a graph node. Checking and drawing are the server's (htmx posts the draft on
// every change, debounced); this file only paints. No eval, no inline handlers (CSP).
(function () {
  "use strict";

  function esc(s) {
    return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }

  function span(cls, s) {
    return s ? '<span class="y-' + cls + '">' + esc(s) + "</span>" : "";
  }

  // a value: comment, quoted string, anchor/alias, flow punctuation, number, boolean/null, plain
  function value(s) {
    var out = "";
    var re = /(\s+#.*$|^#.*$)|("(?:[^"\\]|\\.)*"?|'(?:[^']|'')*'?)|([&*][\w-]+)|([{}\[\],])|(-?\d+(?:\.\d+)?(?=[\s,}\]]|$))|((?:true|false|null|yes|no|~)(?=[\s,}\]]|$))|([^\s"'{}\[\],#&*][^,{}\[\]#]*?(?=\s+#|[,{}\[\]]|\s*$)|\s+)/g;
    var m, last = 0;
    while ((m = re.exec(s)) !== null) {
      if (m.index > last) out += esc(s.slice(last, m.index));
      if (m[1]) out += span("comment", m[1]);
      else if (m[2]) out += span("string", m[2]);
      else if (m[3]) out += span("anchor", m[3]);
      else if (m[4]) out += span("punct", m[4]);
      else if (m[5]) out += span("number", m[5]);
      else if (m[6]) out += span("bool", m[6]);
      else if (m[7] && /\S/.test(m[7])) {
        // a key inside a flow mapping ({text: ..., audio: ...})
        var k = /^([\w.-]+)(:)(.*)$/.exec(m[7]);
        out += k ? span("key", k[1]) + span("punct", k[2]) + esc(k[3]) : span("plain", m[7]);
      } else out += esc(m[0]);
      last = re.lastIndex;
      if (m[0] === "") re.lastIndex++;
    }
    return out + esc(s.slice(last));
  }

  function line(s) {
    var m = /^(\s*)(- )?((?:"[^"]*"|'[^']*'|[^\s#'"{}\[\],:][^#:]*?)\s*:)(?=\s|$)(.*)$/.exec(s);
    if (m) {
      return esc(m[1]) + span("dash", m[2] || "") + span("key", m[3].slice(0, -1)) + span("punct", ":") + value(m[4]);
    }
    var d = /^(\s*)(- ?)(.*)$/.exec(s);
    if (d) return esc(d[1]) + span("dash", d[2]) + value(d[3]);
    return value(s);
  }

  function highlight(text) {
    return text.split("\n").map(line).join("\n") + "\n";
  }

  function errorLines(root) {
    var lines = {};
    root.querySelectorAll(".issue[data-line]").forEach(function (li) {
      var n = parseInt(li.getAttribute("data-line"), 10);
      if (n) lines[n] = li.classList.contains("error") ? "error" : (lines[n] || "warning");
    });
    return lines;
  }

  function setup() {
    var area = document.getElementById("draft");
    var code = document.getElementById("highlight");
    var gutter = document.getElementById("gutter");
    var report = document.getElementById("draft-report");
    if (!area || !code || !gutter) return;
    var marks = {};

    function paint() {
      code.innerHTML = highlight(area.value);
      var count = area.value.split("\n").length, rows = [];
      for (var i = 1; i <= count; i++) {
        var cls = marks[i] ? ' class="mark-' + marks[i] + '"' : "";
        rows.push("<span" + cls + ' data-gutter="' + i + '">' + i + "</span>");
      }
      gutter.innerHTML = rows.join("\n") + "\n";
      sync();
    }

    function sync() {
      code.parentNode.scrollTop = area.scrollTop;
      code.parentNode.scrollLeft = area.scrollLeft;
      gutter.scrollTop = area.scrollTop;
    }

    function gotoLine(n) {
      var lines = area.value.split("\n"), pos = 0;
      for (var i = 0; i < n - 1 && i < lines.length; i++) pos += lines[i].length + 1;
      area.focus();
      area.setSelectionRange(pos, pos + (lines[n - 1] || "").length);
      var lh = parseFloat(getComputedStyle(area).lineHeight) || 18;
      area.scrollTop = Math.max(0, (n - 5) * lh);
      sync();
    }

    function remark() {
      marks = report ? errorLines(report) : {};
      area.setAttribute("data-error-lines", Object.keys(marks).filter(function (k) {
        return marks[k] === "error";
      }).join(","));
      paint();
    }

    area.addEventListener("input", paint);
    area.addEventListener("scroll", sync);
    area.addEventListener("keydown", function (e) {
      if (e.key === "Tab" && !e.shiftKey && !e.ctrlKey && !e.metaKey) {  // two spaces, as YAML wants
        e.preventDefault();
        var s = area.selectionStart;
        area.setRangeText("  ", s, area.selectionEnd, "end");
        area.dispatchEvent(new Event("input", { bubbles: true }));
      }
    });
    document.body.addEventListener("click", function (e) {
      var target = e.target.closest ? e.target.closest("[data-line]") : null;
      if (!target || !(target.classList.contains("goto-line") || target.classList.contains("node"))) return;
      var n = parseInt(target.getAttribute("data-line"), 10);
      if (n) gotoLine(n);
    });
    document.body.addEventListener("htmx:beforeSwap", function (e) {
      if (e.detail.xhr && e.detail.xhr.status === 422) {  // a refused publish: show why
        e.detail.shouldSwap = true;
        e.detail.isError = false;
      }
    });
    document.body.addEventListener("htmx:afterSwap", function (e) {
      if (e.detail.target === report) remark();
    });
    remark();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setup);
  else setup();
})();
