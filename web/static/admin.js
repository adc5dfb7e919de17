// Staff admin: progress polling for the re-index, jump-to-line for validator messages, confirm for deletions.
// Loaded as a file (the CSP forbids inline script); everything works without it, only less conveniently.
(function () {
  "use strict";

  function pollReindex(box) {
    var ticket = parseInt(box.getAttribute("data-ticket") || "0", 10);
    var url = box.getAttribute("data-status-url");
    var bar = document.getElementById("reindex-progress");
    var state = document.getElementById("reindex-state");
    function tick() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); })
        .then(function (s) {
          bar.value = s.percent;
          bar.textContent = s.percent + "%";
          if (s.completed >= ticket && !s.running) {
            bar.value = 100;
            state.textContent = s.ok ? "完了しました: " + s.summary_ja : s.error_ja;
            box.setAttribute("data-done", s.ok ? "ok" : "failed");
            return;
          }
          state.textContent = "処理中: " + s.stage_ja + " " + s.done + "/" + s.total;
          setTimeout(tick, 500);
        })
        .catch(function (e) { state.textContent = "進み具合を取得できませんでした(" + e.message + ")。再読み込みしてください。"; });
    }
    tick();
  }

  function goToLine(textarea, line) {
    var lines = textarea.value.split("\n");
    var start = 0;
    for (var i = 0; i < line - 1 && i < lines.length; i++) { start += lines[i].length + 1; }
    var end = start + (lines[line - 1] || "").length;
    textarea.focus();
    textarea.setSelectionRange(start, end);
    var lineHeight = textarea.scrollHeight / Math.max(lines.length, 1);
    textarea.scrollTop = Math.max(0, (line - 3) * lineHeight);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("reindex");
    if (box && box.getAttribute("data-ticket") !== "0") { pollReindex(box); }

    var textarea = document.getElementById("doc-text");
    document.querySelectorAll(".line-link").forEach(function (a) {
      a.addEventListener("click", function (ev) {
        if (!textarea) { return; }
        ev.preventDefault();
        goToLine(textarea, parseInt(a.getAttribute("data-line"), 10));
      });
    });

    document.querySelectorAll("[data-confirm]").forEach(function (b) {
      b.addEventListener("click", function (ev) {
        if (!window.confirm(b.getAttribute("data-confirm"))) { ev.preventDefault(); }
      });
    });
  });
})();
