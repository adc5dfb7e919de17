/* 台東区 子育てチャット widget. Paste on any page:
 *   <script src="https://CHAT-SERVER/widget.js" defer></script>
 * It adds a chat button that opens the chat (CHAT-SERVER/embed) in an iframe. The button lives in a shadow root and
 * is styled through the CSSOM, so the host page's CSS neither changes it nor is changed by it, and a strict host
 * CSP (no inline style) does not block it. This file holds no secrets: the only thing it knows is its own address. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.__kosodateWidget) return;
  window.__kosodateWidget = true;
  var origin = new URL(script.src, window.location.href).origin;
  var LABEL_OPEN = "子育てチャットを開く";
  var LABEL_CLOSE = "子育てチャットを閉じる";

  function css(node, styles) {
    Object.keys(styles).forEach(function (k) { node.style.setProperty(k, styles[k]); });
    return node;
  }

  function mount() {
    var host = document.createElement("div");
    host.id = "kosodate-chat-widget";
    css(host, { position: "fixed", right: "16px", bottom: "16px", "z-index": "2147483000" });
    var shadow = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;

    var panel = css(document.createElement("div"), {
      display: "none", position: "fixed", right: "16px", bottom: "84px",
      width: "min(400px, calc(100vw - 32px))", height: "min(640px, calc(100vh - 110px))",
      background: "#fff", border: "1px solid #c5ccd3", "border-radius": "12px",
      "box-shadow": "0 8px 24px rgba(0,0,0,.25)", overflow: "hidden"
    });
    panel.id = "kosodate-chat-panel";
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-label", "台東区 子育てチャット");

    var frame = null;
    var button = css(document.createElement("button"), {
      all: "initial", display: "flex", "align-items": "center", gap: "8px", cursor: "pointer",
      "font-family": "system-ui, 'Hiragino Sans', 'Noto Sans JP', sans-serif", "font-size": "16px",
      "font-weight": "bold", color: "#fff", background: "#0b5cad", padding: "14px 20px",
      "border-radius": "999px", "box-shadow": "0 4px 12px rgba(0,0,0,.3)", "min-height": "48px"
    });
    button.type = "button";
    button.textContent = "子育てチャット";
    button.setAttribute("aria-label", LABEL_OPEN);
    button.setAttribute("aria-expanded", "false");
    button.setAttribute("aria-controls", panel.id);
    button.addEventListener("focus", function () { css(button, { outline: "3px solid #1b1b1b", "box-shadow": "0 0 0 6px #ffbf00" }); });
    button.addEventListener("blur", function () { css(button, { outline: "none", "box-shadow": "0 4px 12px rgba(0,0,0,.3)" }); });

    function open() {
      if (!frame) {
        frame = css(document.createElement("iframe"), { width: "100%", height: "100%", border: "0", display: "block" });
        frame.src = origin + "/embed";
        frame.title = "台東区 子育てチャット";
        frame.setAttribute("referrerpolicy", "strict-origin-when-cross-origin");
        panel.appendChild(frame);
      }
      css(panel, { display: "block" });
      button.setAttribute("aria-expanded", "true");
      button.setAttribute("aria-label", LABEL_CLOSE);
      button.textContent = "× 閉じる";
      frame.focus();
    }
    function close() {
      css(panel, { display: "none" });
      button.setAttribute("aria-expanded", "false");
      button.setAttribute("aria-label", LABEL_OPEN);
      button.textContent = "子育てチャット";
      button.focus();
    }
    button.addEventListener("click", function () {
      if (button.getAttribute("aria-expanded") === "true") close(); else open();
    });
    document.addEventListener("keydown", function (ev) {
      if (ev.key === "Escape" && button.getAttribute("aria-expanded") === "true") close();
    });

    shadow.appendChild(panel);
    shadow.appendChild(button);
    document.body.appendChild(host);
  }

  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
})();
