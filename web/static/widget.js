/* 子育てチャット widget. Paste on any page:
 *   <script src="https://CHAT-SERVER/widget.js" defer></script>
 * It adds a chat button that opens the chat (CHAT-SERVER/embed) in an iframe. The button lives in a shadow root and
 * is styled through the CSSOM, so the host page's CSS neither changes it nor is changed by it, and a strict host
 * CSP (no inline style) does not block it. This file holds no secrets: the only thing it knows is its own address.
 *
 * Options, as attributes of the script tag (all optional):
 *   data-position="left"        the button's corner: right (default) or left
 *   data-offset-bottom="56"     pixels kept free at the bottom, e.g. the height of the page's fixed footer (default 0);
 *                               the button sits 16 px above it and the panel never covers it
 *   data-offset-side="24"       pixels from the side edge (default 16)
 * On a phone (≤ 480 px wide) the panel opens full screen, down to the kept-free bottom. Esc closes it (also from
 * inside the chat) and puts the focus back on the button. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.__kosodateWidget) return;
  window.__kosodateWidget = true;
  var origin = new URL(script.src, window.location.href).origin;
  var TITLE = script.getAttribute("data-title") || "子育てチャット"; // e.g. data-title="台東区 子育てチャット"
  var LABEL_OPEN = "子育てチャットを開く";
  var LABEL_CLOSE = "子育てチャットを閉じる";
  var CLOSE_MESSAGE = "kosodate-chat:close"; // sent by the chat page in the iframe when Esc is pressed there
  var GAP = 16;

  function option(name, fallback, max) {
    var raw = script.getAttribute("data-" + name);
    if (raw === null || raw === "") return fallback;
    var n = Number(raw);
    if (!isFinite(n) || n < 0 || n > max) {
      if (window.console) console.warn("kosodate widget: data-" + name + "=\"" + raw + "\" is not a number of pixels from 0 to " + max + "; using " + fallback);
      return fallback;
    }
    return Math.round(n);
  }
  var position = script.getAttribute("data-position");
  if (position && position !== "left" && position !== "right" && window.console) {
    console.warn("kosodate widget: data-position=\"" + position + "\" is not left or right; using right");
  }
  var side = position === "left" ? "left" : "right";
  var other = side === "left" ? "right" : "left";
  var keepBottom = option("offset-bottom", 0, 400);
  var offsetSide = option("offset-side", GAP, 400);
  var phone = window.matchMedia ? window.matchMedia("(max-width: 480px)") : { matches: false };

  function css(node, styles) {
    Object.keys(styles).forEach(function (k) { node.style.setProperty(k, styles[k]); });
    return node;
  }
  function px(n) { return n + "px"; }

  function mount() {
    var host = document.createElement("div");
    host.id = "kosodate-chat-widget";
    css(host, { position: "fixed", bottom: px(keepBottom + GAP), "z-index": "2147483000" });
    host.style.setProperty(side, px(offsetSide));
    var shadow = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;

    var panel = css(document.createElement("div"), {
      display: "none", position: "fixed", "flex-direction": "column", background: "#fff", "box-sizing": "border-box", "box-shadow": "0 8px 24px rgba(0,0,0,.25)", overflow: "hidden"
    });
    panel.id = "kosodate-chat-panel";
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-label", TITLE);

    // a bar with its own close button: on a phone the panel covers the launcher, so it must close from inside
    var bar = css(document.createElement("div"), {
      display: "flex", "align-items": "center", "justify-content": "flex-end", background: "#083f77",
      padding: "2px 4px", "flex": "0 0 auto"
    });
    var closeButton = css(document.createElement("button"), {
      all: "initial", cursor: "pointer", color: "#fff", "font-family": "system-ui, 'Hiragino Sans', 'Noto Sans JP', sans-serif",
      "font-size": "15px", "font-weight": "bold", padding: "10px 14px", "min-height": "44px", "box-sizing": "border-box",
      "border-radius": "8px"
    });
    closeButton.type = "button";
    closeButton.textContent = "× 閉じる";
    closeButton.setAttribute("aria-label", "チャットを閉じる");
    bar.appendChild(closeButton);
    panel.appendChild(bar);

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
    [button, closeButton].forEach(function (b) {
      var rest = b.style.getPropertyValue("box-shadow") || "none";
      b.addEventListener("focus", function () { css(b, { outline: "3px solid #1b1b1b", "box-shadow": "0 0 0 6px #ffbf00" }); });
      b.addEventListener("blur", function () { css(b, { outline: "none", "box-shadow": rest }); });
    });

    function place() {
      // desktop: a panel above the button; phone: the whole screen except the bottom the host keeps free
      var styles = phone.matches
        ? { top: "0", bottom: px(keepBottom), width: "auto", height: "auto", "border-radius": "0", border: "0" }
        : { top: "auto", bottom: px(keepBottom + GAP + 68), width: "min(400px, calc(100vw - 32px))",
            height: "min(640px, calc(100vh - " + (keepBottom + GAP + 68 + 16) + "px))", "border-radius": "12px",
            border: "1px solid #c5ccd3" };
      styles[side] = phone.matches ? "0" : px(offsetSide);
      styles[other] = phone.matches ? "0" : "auto";
      css(panel, styles);
    }
    function isOpen() { return button.getAttribute("aria-expanded") === "true"; }
    function open() {
      if (!frame) {
        frame = css(document.createElement("iframe"), { width: "100%", border: "0", display: "block", flex: "1 1 auto", "min-height": "0" });
        frame.src = origin + "/embed";
        frame.title = TITLE;
        frame.setAttribute("referrerpolicy", "strict-origin-when-cross-origin");
        panel.appendChild(frame);
      }
      place();
      css(panel, { display: "flex" });
      button.setAttribute("aria-expanded", "true");
      button.setAttribute("aria-label", LABEL_CLOSE);
      button.textContent = "× 閉じる";
      // on a phone the panel's own bar closes it; the launcher would float over the chat's send button
      if (phone.matches) css(button, { display: "none" });
      frame.focus();
    }
    function close() {
      css(panel, { display: "none" });
      css(button, { display: "flex" });
      button.setAttribute("aria-expanded", "false");
      button.setAttribute("aria-label", LABEL_OPEN);
      button.textContent = "子育てチャット";
      button.focus();
    }
    button.addEventListener("click", function () { if (isOpen()) close(); else open(); });
    closeButton.addEventListener("click", close);
    document.addEventListener("keydown", function (ev) {
      if (ev.key === "Escape" && isOpen()) close();
    });
    window.addEventListener("message", function (ev) {
      // only the chat page this script opened may close it
      if (ev.origin !== origin || !frame || ev.source !== frame.contentWindow) return;
      if (ev.data && ev.data.type === CLOSE_MESSAGE && isOpen()) close();
    });
    if (phone.addEventListener) {
      phone.addEventListener("change", function () {
        if (!isOpen()) return;
        place();
        css(button, { display: phone.matches ? "none" : "flex" });
      });
    }

    shadow.appendChild(panel);
    shadow.appendChild(button);
    document.body.appendChild(host);
  }

  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
})();
