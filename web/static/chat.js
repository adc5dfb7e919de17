/* 子育てチャット: the page script. No dependencies, no inline handlers (the CSP forbids them).
 * Everything the parent types or the bot answers goes into the page with textContent, never innerHTML. */
(function () {
  "use strict";

  var STREAM_URL = "/api/chat/stream";
  var END_URL = "/api/chat/end";
  var UI = window.KOSODATE_UI || {};
  var MAX_SAVED_TURNS = 30; // what a reload brings back (sessionStorage holds ~5 MB; one turn is a few kB)
  var TIMEOUT_MS = 35000; // the server's own LLM deadline is 20 s; past this something is wrong on the way

  function load(key) {
    try { return window.sessionStorage.getItem(key); } catch (e) { return null; }
  }
  function save(key, value) {
    try { window.sessionStorage.setItem(key, value); } catch (e) { /* storage disabled: settings last for this page */ }
  }

  var root = document.documentElement;
  var log = document.getElementById("log");
  var form = document.getElementById("composer");
  var input = document.getElementById("composer-input");
  var send = document.getElementById("composer-send");
  var count = document.getElementById("composer-count");
  var composerError = document.getElementById("composer-error");
  var toggleFurigana = document.getElementById("toggle-furigana");
  var toggleLarge = document.getElementById("toggle-large");
  var langSelect = document.getElementById("lang-select");
  var newChat = document.getElementById("new-chat");
  var composerStatus = document.getElementById("composer-status");
  if (!log || !form) return;

  var state = {
    sessionId: load("kosodate.session") || null,
    furigana: load("kosodate.furigana") === "1",
    large: load("kosodate.large") === "1",
    // the reply language the parent chose ("" = the language of each message); first visit: the browser's language
    lang: load("kosodate.lang") !== null ? load("kosodate.lang") : (langSelect ? langSelect.getAttribute("data-default") || "" : ""),
    busy: false
  };

  // ---- the page's fixed strings in the chosen language (issue 12); "" (自動) and ja keep the Japanese page ----
  function uiLang() { return UI[state.lang] ? state.lang : "ja"; }
  function t(key) {
    var table = UI[uiLang()] || {};
    return table[key] || (UI.ja || {})[key] || "";
  }
  // a server error in the parent's language when the page has it (err_<code>), else the server's Japanese message
  function serverMessage(err) {
    var own = uiLang() !== "ja" && err.code ? (UI[uiLang()] || {})["err_" + err.code] : null;
    return own || err.message || err.detail || t("network");
  }
  function translate(node) {
    var lang = uiLang();
    Array.prototype.forEach.call(node.querySelectorAll("[data-ui]"), function (e) {
      if (!e.hasAttribute("data-ja")) e.setAttribute("data-ja", e.textContent);
      e.textContent = lang === "ja" ? e.getAttribute("data-ja") : t(e.getAttribute("data-ui"));
      if (lang === "ja") e.removeAttribute("lang"); else e.setAttribute("lang", lang);
    });
    // text with markup of its own (the privacy notice) stays in the page; a translation is shown in its place
    Array.prototype.forEach.call(node.querySelectorAll("[data-ui-keep]"), function (e) {
      var tr = e.nextElementSibling && e.nextElementSibling.classList.contains("ui-translation") ? e.nextElementSibling : null;
      if (!tr) {
        tr = el("span", "ui-translation");
        e.parentNode.insertBefore(tr, e.nextSibling);
      }
      e.hidden = lang !== "ja";
      tr.hidden = lang === "ja";
      tr.textContent = lang === "ja" ? "" : t(e.getAttribute("data-ui-keep"));
      if (lang === "ja") tr.removeAttribute("lang"); else tr.setAttribute("lang", lang);
    });
    Array.prototype.forEach.call(node.querySelectorAll("[data-ui-placeholder]"), function (e) {
      if (!e.hasAttribute("data-ja-placeholder")) e.setAttribute("data-ja-placeholder", e.placeholder);
      e.placeholder = lang === "ja" ? e.getAttribute("data-ja-placeholder") : t(e.getAttribute("data-ui-placeholder"));
    });
  }
  function translateTemplates() {
    ["tpl-user", "tpl-bot"].forEach(function (id) {
      var tpl = document.getElementById(id);
      if (tpl) translate(tpl.content);
    });
  }
  function applyLanguage() {
    translate(document);
    translateTemplates();
  }
  if (langSelect) {
    langSelect.value = state.lang;
    langSelect.addEventListener("change", function () {
      state.lang = langSelect.value;
      save("kosodate.lang", state.lang);
      applyLanguage();
    });
  }
  applyLanguage();

  // ---- settings ----
  function applySettings() {
    root.classList.toggle("show-furigana", state.furigana);
    root.classList.toggle("large-text", state.large);
    toggleFurigana.setAttribute("aria-pressed", String(state.furigana));
    toggleLarge.setAttribute("aria-pressed", String(state.large));
  }
  toggleFurigana.addEventListener("click", function () {
    state.furigana = !state.furigana;
    save("kosodate.furigana", state.furigana ? "1" : "0");
    applySettings();
    if (state.furigana) addRubyToShownAnswers();
  });
  toggleLarge.addEventListener("click", function () {
    state.large = !state.large;
    save("kosodate.large", state.large ? "1" : "0");
    applySettings();
  });
  applySettings();

  // ---- small DOM helpers ----
  function el(tag, className, text) {
    var e = document.createElement(tag);
    if (className) e.className = className;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }
  function part(root, selector) { return root.querySelector(selector); }
  function show(node) { node.hidden = false; return node; }
  function clone(id) { return document.getElementById(id).content.firstElementChild.cloneNode(true); }
  function formatDate(iso) {
    var p = String(iso || "").split("-");
    if (p.length !== 3) return iso;
    return Number(p[0]) + "年" + Number(p[1]) + "月" + Number(p[2]) + "日";
  }
  function scrollToEnd(node) {
    if (node && node.scrollIntoView) node.scrollIntoView({ block: "nearest" });
  }
  function externalLink(href, text, className) {
    var a = el("a", className, text);
    a.href = href;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    a.appendChild(el("span", "sr-only", t("new_tab")));
    return a;
  }
  function safeHref(url) {
    return /^(https?:|tel:)/i.test(String(url || "")) ? url : null;
  }

  // ---- rendering ----
  function fillParagraph(p, text, segments) {
    p.textContent = "";
    if (!segments) { p.textContent = text; return; }
    segments.forEach(function (s) {
      if (s.reading) {
        var ruby = el("ruby", null, s.text);
        ruby.appendChild(el("rp", null, "("));
        ruby.appendChild(el("rt", null, s.reading));
        ruby.appendChild(el("rp", null, ")"));
        p.appendChild(ruby);
      } else {
        p.appendChild(document.createTextNode(s.text));
      }
    });
  }

  // A paragraph whose lines after the first start with "- " is a sentence and its list (「次の金額です。」 + items):
  // shown as a real list. With ふりがな on, the ruby segments keep the paragraph as one block.
  function listParts(text) {
    var lines = String(text).split("\n");
    var items = lines.slice(1);
    if (!items.length || !items.every(function (l) { return /^\s*[-・]\s+/.test(l); })) return null;
    return { lead: lines[0], items: items.map(function (l) { return l.replace(/^\s*[-・]\s+/, ""); }) };
  }

  function renderBody(view, paragraphs, ruby) {
    var body = part(view, ".msg-body");
    body.textContent = "";
    paragraphs.forEach(function (text, i) {
      var list = ruby ? null : listParts(text);
      var p = el("p", "msg-paragraph");
      fillParagraph(p, list ? list.lead : text, ruby ? ruby[i] : null);
      body.appendChild(p);
      if (list) {
        var ul = el("ul", "msg-list");
        list.items.forEach(function (item) { ul.appendChild(el("li", null, item)); });
        body.appendChild(ul);
      }
    });
    view.dataset.ruby = ruby ? "1" : "";
    view._paragraphs = paragraphs;
  }

  function chipButton(choice, className) {
    var b = el("button", className, choice.label);
    b.type = "button";
    b.addEventListener("click", function () { ask(choice.query); });
    return b;
  }

  function renderDone(view, data) {
    view.classList.add("kind-" + data.kind);
    part(view, ".msg-status").hidden = true;

    if (data.emergency_numbers && data.emergency_numbers.length) {
      if (data.emergency_title) part(view, ".emergency-title").textContent = data.emergency_title;
      if (data.lang && data.lang !== "ja") {
        // the title and the tel: labels are in the parent's language (the Japanese guidance follows in the body)
        part(view, ".emergency").setAttribute("lang", data.lang);
      }
      var list = part(view, ".emergency-list");
      data.emergency_numbers.forEach(function (n) {
        var a = el("a", "tel-big");
        a.href = n.tel;
        a.appendChild(el("span", "tel-number", n.number));
        a.appendChild(el("span", "tel-label", n.label));
        var li = el("li");
        li.appendChild(a);
        list.appendChild(li);
      });
      show(part(view, ".emergency"));
    }

    renderBody(view, data.body || [], data.ruby);
    var more = part(view, ".msg-more");
    var hasMore = false;
    if (data.details && data.details.length) {
      var details = part(view, ".msg-details-body");
      data.details.forEach(function (text) { details.appendChild(el("p", "msg-paragraph", text)); });
      hasMore = true;
    }

    if (data.choices && data.choices.length) {
      var choices = part(view, ".choice-list");
      data.choices.forEach(function (c) {
        var li = el("li");
        li.appendChild(chipButton(c, "button choice"));
        choices.appendChild(li);
      });
      show(part(view, ".choices"));
    }

    // one primary next step: the form (or the ward's page), otherwise the office's phone
    var h = data.handoff;
    var o = data.office;
    var step = part(view, ".next-step");
    var stepLink = part(step, ".next-link");
    if (h && safeHref(h.url)) {
      // only a confirmed online form says 「オンラインで申請する」; an information page is 「区のページを見る」
      stepLink.textContent = h.kind === "application" ? t("apply") : (h.publisher === "official_ward" ? t("page") : t("related"));
      stepLink.href = h.url;
      stepLink.target = "_blank";
      stepLink.rel = "noopener noreferrer";
      stepLink.appendChild(el("span", "sr-only", t("new_tab")));
      if (h.needs_my_number_card) part(step, ".next-note").textContent = "マイナンバーカードが必要です。";
      show(step);
    } else if (o && o.tel) {
      stepLink.textContent = t("call") + " " + o.phone;
      stepLink.href = o.tel;
      part(step, ".next-note").textContent = o.name;
      show(step);
    }

    if (h && safeHref(h.url)) {
      var card = part(view, ".handoff");
      part(card, ".handoff-title").textContent = h.title;
      var req = part(card, ".handoff-requires");
      if (h.needs_my_number_card) {
        req.textContent = "マイナンバーカードが必要です。";
        req.classList.add("needs-card");
      } else {
        req.textContent = "マイナンバーカードは不要です。";
      }
      var others = (h.requires || []).filter(function (r) { return r.indexOf("マイナンバー") < 0; });
      if (others.length) req.textContent += "(ほかに必要:" + others.join("、") + ")";
      if (h.prepare && h.prepare.length) {
        var prep = part(card, ".prepare-list");
        h.prepare.forEach(function (x) { prep.appendChild(el("li", null, x)); });
        show(part(card, ".handoff-prepare"));
      }
      show(card);
      hasMore = true;
    }

    if (o) {
      var office = part(view, ".office");
      part(office, ".office-name").textContent = o.name;
      if (o.tel) {
        var tel = part(office, ".office-tel");
        tel.href = o.tel;
        tel.textContent = t("call") + " " + o.phone;
        show(part(office, ".office-phone"));
      }
      if (o.hours) show(part(office, ".office-hours")).textContent = "受付時間:" + o.hours;
      if (o.address) show(part(office, ".office-address")).textContent = "場所:" + o.address;
      show(office);
      hasMore = true;
    }

    if (data.citations && data.citations.length) {
      var sources = part(view, ".source-list");
      data.citations.forEach(function (c) {
        var li = el("li", "source");
        var href = safeHref(c.url);
        li.appendChild(href ? externalLink(href, c.title, "source-link") : el("span", null, c.title));
        if (c.publisher_label) {
          li.appendChild(el("span", "publisher publisher-" + c.publisher, c.publisher_label));
        }
        li.appendChild(el("span", "as-of", c.as_of_known === false
          ? "ページの更新日は不明(" + formatDate(c.checked) + "に確認)"
          : "情報の時点:" + formatDate(c.as_of)));
        sources.appendChild(li);
      });
      show(part(view, ".sources"));
      // who published it and when stay on the card's face, in the disclosure's one line
      var first = data.citations[0];
      part(more, ".more-hint").textContent = "出典:" + (first.publisher_label || first.title) +
        (first.as_of_known === false ? "" : "・" + formatDate(first.as_of));
      hasMore = true;
    }
    if (hasMore) show(more);

    if (data.suggestions && data.suggestions.length) {
      var chips = part(view, ".suggestions .chip-list");
      data.suggestions.forEach(function (c) {
        var li = el("li");
        li.appendChild(chipButton(c, "chip"));
        chips.appendChild(li);
      });
      show(part(view, ".suggestions"));
    }

    setUpFeedback(view, data.message_id);
  }

  function renderError(view, message, question) {
    view.classList.add("kind-error");
    part(view, ".msg-status").hidden = true;
    part(view, ".msg-body").textContent = ""; // a cut stream must not leave half a sentence
    var err = show(part(view, ".msg-error"));
    err.textContent = message;
    if (!question) return;
    if (!input.value.trim()) { input.value = question; updateCount(); } // the typed question is not lost
    var retry = show(part(view, ".retry"));
    retry.addEventListener("click", function () {
      retry.hidden = true;
      if (input.value.trim() === question) { input.value = ""; updateCount(); }
      ask(question);
    }, { once: true });
  }

  // ---- feedback ----
  function postJSON(url, payload) {
    return fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify(payload)
    }).then(function (res) {
      return (res.status === 204 ? Promise.resolve({}) : res.json().catch(function () { return {}; })).then(function (body) {
        if (!res.ok) throw new Error(body.message || body.detail || t("network"));
        return body;
      });
    });
  }

  function setUpFeedback(view, messageId) {
    if (!messageId) return; // the server could not record this turn, so there is nothing to rate
    var box = part(view, ".feedback");
    var status = part(box, ".feedback-status");
    var commentForm = part(box, ".feedback-form");
    var buttons = box.querySelectorAll(".feedback-button");
    var helpful = null;
    function sendFeedback(comment) {
      var payload = { message_id: messageId, helpful: helpful, session_id: state.sessionId };
      if (comment) payload.comment = comment;
      return postJSON("/api/feedback", payload);
    }
    Array.prototype.forEach.call(buttons, function (b) {
      b.addEventListener("click", function () {
        helpful = b.dataset.helpful === "true";
        Array.prototype.forEach.call(buttons, function (x) { x.setAttribute("aria-pressed", String(x === b)); });
        sendFeedback(null).then(function () {
          status.textContent = "ありがとうございました。よろしければ、ご意見もお聞かせください(任意)。";
          show(commentForm);
        }, function (e) { status.textContent = e.message; });
      });
    });
    commentForm.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var comment = part(commentForm, ".feedback-comment").value.trim();
      if (!comment) { status.textContent = "ご意見が空です。書かなくても評価は届いています。"; return; }
      sendFeedback(comment).then(function () {
        status.textContent = "ご意見を受け付けました。ありがとうございました。";
        commentForm.hidden = true;
      }, function (e) { status.textContent = e.message; });
    });
    show(box);
  }

  // ---- furigana for answers shown before the toggle was turned on ----
  function addRubyToShownAnswers() {
    var views = Array.prototype.filter.call(log.querySelectorAll(".msg-bot"), function (v) {
      return v._paragraphs && v._paragraphs.length && !v.dataset.ruby;
    });
    views.forEach(function (v) {
      postJSON("/api/furigana", { texts: v._paragraphs }).then(function (body) {
        renderBody(v, v._paragraphs, body.ruby);
      }, function () { /* ruby is a convenience; the plain text stays */ });
    });
  }

  // ---- streaming ----
  function parseEvent(block) {
    var name = "message";
    var data = [];
    block.split("\n").forEach(function (line) {
      if (line.indexOf("event:") === 0) name = line.slice(6).trim();
      else if (line.indexOf("data:") === 0) data.push(line.slice(5).replace(/^ /, ""));
    });
    return { name: name, data: data.length ? JSON.parse(data.join("\n")) : null };
  }

  function handleEvent(view, ev) {
    if (ev.name === "meta") {
      state.sessionId = ev.data.session_id;
      save("kosodate.session", state.sessionId);
      view.dataset.messageId = ev.data.message_id;
      if (ev.data.kind === "emergency") view.classList.add("kind-emergency");
    } else if (ev.name === "delta") {
      var body = part(view, ".msg-body");
      var p = body.children[ev.data.paragraph];
      while (!p) {
        body.appendChild(el("p", "msg-paragraph"));
        p = body.children[ev.data.paragraph];
      }
      p.appendChild(document.createTextNode(ev.data.text));
    } else if (ev.name === "done") {
      renderDone(view, ev.data);
      saveTurn(view._question, ev.data);
      return true;
    } else if (ev.name === "error") {
      renderError(view, (ev.data && ev.data.message) || t("network"));
      return true;
    }
    return false;
  }

  async function readStream(res, view) {
    var reader = res.body.getReader();
    var decoder = new TextDecoder("utf-8");
    var buffer = "";
    var finished = false;
    for (;;) {
      var chunk = await reader.read();
      if (chunk.done) break;
      buffer += decoder.decode(chunk.value, { stream: true });
      var cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        var block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        if (block.trim()) finished = handleEvent(view, parseEvent(block)) || finished;
      }
    }
    if (!finished) throw new Error(t("network"));
  }

  function addUserMessage(text) {
    var node = clone("tpl-user");
    part(node, ".msg-text").textContent = text;
    log.appendChild(node);
  }

  // ---- the conversation survives a reload (sessionStorage: this tab only, gone when the tab closes) ----
  function savedTurns() {
    try { return JSON.parse(load("kosodate.turns") || "[]") || []; } catch (e) { return []; }
  }
  function saveTurn(question, data) {
    // what a reload shows again is kept as the logs keep it: names, phones and addresses masked, not as typed
    var kept = {};
    Object.keys(data).forEach(function (k) { if (k !== "question") kept[k] = data[k]; });
    var turns = savedTurns();
    turns.push({ q: data.question_masked || question, a: kept });
    turns = turns.slice(-MAX_SAVED_TURNS);
    for (;;) {
      try { window.sessionStorage.setItem("kosodate.turns", JSON.stringify(turns)); return; } catch (e) {
        if (!turns.length) return; // storage disabled: the conversation lasts for this page
        turns.shift(); // full: drop the oldest turns rather than the newest
      }
    }
  }
  function restoreConversation() {
    savedTurns().forEach(function (turn) {
      if (!turn || !turn.a) return;
      addUserMessage(turn.q || "");
      var view = clone("tpl-bot");
      log.appendChild(view);
      renderDone(view, turn.a);
    });
    if (state.furigana) addRubyToShownAnswers();
  }

  // ---- 「新しい相談」: a clean page, a new session, and the server forgets the old one's context ----
  function startNewConversation() {
    if (state.busy) return;
    var old = state.sessionId;
    state.sessionId = null;
    save("kosodate.session", "");
    save("kosodate.turns", "[]");
    Array.prototype.forEach.call(log.querySelectorAll(".msg:not(.msg-welcome)"), function (m) { m.remove(); });
    composerError.textContent = "";
    input.value = "";
    updateCount();
    if (old) postJSON(END_URL, { session_id: old }).catch(function () { /* the old id is dropped here anyway */ });
    if (composerStatus) composerStatus.textContent = t("started");
    input.focus();
  }
  if (newChat) newChat.addEventListener("click", startNewConversation);

  async function ask(text) {
    text = String(text || "").trim();
    if (state.busy) return;
    if (!text) {
      composerError.textContent = t("empty");
      input.focus();
      return;
    }
    composerError.textContent = "";
    state.busy = true;
    send.disabled = true;
    log.setAttribute("aria-busy", "true");
    addUserMessage(text);
    if (composerStatus) composerStatus.textContent = "";
    var view = clone("tpl-bot");
    view._question = text;
    log.appendChild(view);
    scrollToEnd(view);
    var controller = new AbortController();
    var timer = setTimeout(function () { controller.abort(); }, TIMEOUT_MS);
    try {
      var payload = { message: text, furigana: state.furigana };
      if (state.lang) payload.lang = state.lang;
      if (state.sessionId) payload.session_id = state.sessionId;
      var res = await fetch(STREAM_URL, {
        method: "POST",
        headers: { "Content-Type": "application/json", "Accept": "text/event-stream" },
        body: JSON.stringify(payload),
        signal: controller.signal
      });
      if (!res.ok) {
        var err = await res.json().catch(function () { return {}; });
        if (err.code === "session_invalid") {
          state.sessionId = null;
          save("kosodate.session", "");
        }
        // 4xx/5xx bodies carry a polite Japanese message; a 429 or 503 is worth retrying, a 422 is not
        renderError(view, serverMessage(err), res.status >= 429 ? text : null);
      } else {
        await readStream(res, view);
      }
    } catch (e) {
      // fetch's own errors are English ("Failed to fetch"): parents see Japanese, with the question kept to resend
      renderError(view, e && e.name === "AbortError" ? t("timeout") : t("network"), text);
    } finally {
      clearTimeout(timer);
      state.busy = false;
      send.disabled = false;
      log.setAttribute("aria-busy", "false");
      scrollToEnd(view);
    }
  }

  // ---- composer ----
  function updateCount() { count.textContent = input.value.length + " / 500"; }
  input.addEventListener("input", updateCount);
  input.addEventListener("keydown", function (ev) {
    // Enter sends, Shift+Enter breaks the line; never while an IME is composing kana into kanji.
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing && ev.keyCode !== 229) {
      ev.preventDefault();
      form.requestSubmit();
    }
  });
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var text = input.value;
    if (text.trim() && !state.busy) {
      input.value = "";
      updateCount();
    }
    ask(text);
    input.focus();
  });
  Array.prototype.forEach.call(document.querySelectorAll(".msg-welcome .chip"), function (b) {
    b.addEventListener("click", function () { ask(b.dataset.query); });
  });
  updateCount();
  restoreConversation();

  // ---- hand-off use (EBPM): the form button or a tel: link was used; one beacon, nothing else changes ----
  document.addEventListener("click", function (ev) {
    var a = ev.target && ev.target.closest ? ev.target.closest("a[href]") : null;
    if (!a || !navigator.sendBeacon) { return; }
    var href = a.getAttribute("href") || "";
    var body = /^tel:/i.test(href) ? { kind: "phone", target: href }
      : (a.classList.contains("next-link") || a.closest(".handoff") ? { kind: "form", target: a.href } : null);
    if (body) {
      navigator.sendBeacon("/api/handoff-click", new Blob([JSON.stringify(body)], { type: "application/json" }));
    }
  });
})();

/* In the widget's iframe, Esc asks the host page's widget to close the panel (the key never reaches the host page
 * from inside a cross-origin frame). The message says nothing but that. */
(function () {
  "use strict";
  if (window.parent === window || !document.documentElement.classList.contains("is-embed")) return;
  document.addEventListener("keydown", function (ev) {
    if (ev.key !== "Escape" || ev.isComposing || ev.defaultPrevented) return;
    window.parent.postMessage({ type: "kosodate-chat:close" }, "*");
  });
})();
