// The chat page. Every string from the user or the knowledge base is inserted with textContent, never as HTML.
(function () {
  "use strict";

  var CHAT_KEY = "hohhot-assistant-chat-id";
  var NETWORK_ERROR = "网络连接失败，请稍后再试。急需帮助请拨打12345政务服务便民热线。";
  var log = document.getElementById("log");
  var form = document.getElementById("ask");
  var input = document.getElementById("question");
  var send = document.getElementById("send");
  var busy = false;

  if (new URLSearchParams(window.location.search).get("embed") === "1" && window.parent !== window) {
    document.documentElement.classList.add("embed");
    // Inside the widget: Escape asks the embedding page to close the chat window (it checks our origin).
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { window.parent.postMessage("hohhot-assistant:close", "*"); }
    });
  }

  function chatId() {
    var id = null;
    try {
      id = window.sessionStorage.getItem(CHAT_KEY);
      if (!id) {
        id = "web-" + (window.crypto && window.crypto.randomUUID ? window.crypto.randomUUID()
          : String(Date.now()) + Math.random().toString(16).slice(2));
        window.sessionStorage.setItem(CHAT_KEY, id);
      }
    } catch (e) {
      id = null; // storage disabled: ask without a conversation id
    }
    return id;
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function scrollToEnd() {
    log.scrollTop = log.scrollHeight;
  }

  function post(path, payload) {
    var id = chatId();
    if (id) { payload.chat_id = id; }
    return fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(payload),
      credentials: "same-origin"
    }).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (data) {
        if (!response.ok) {
          var message = data && typeof data.message === "string" ? data.message : NETWORK_ERROR;
          throw new Error(message);
        }
        return data;
      });
    });
  }

  function chipGroup(label, items, onPick, visibleLabel) {
    var group = el("div", "chips");
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", label);
    if (visibleLabel) { group.appendChild(el("span", "chips-label", label + "：")); }
    items.forEach(function (item) {
      var chip = el("button", "chip", item.question);
      chip.type = "button";
      chip.addEventListener("click", function () { onPick(item); });
      group.appendChild(chip);
    });
    return group;
  }

  function voteBar(recordId) {
    var bar = el("div", "vote");
    bar.setAttribute("role", "group");
    bar.setAttribute("aria-label", "这个回答有帮助吗");
    var note = el("span", "vote-note");
    note.setAttribute("aria-live", "polite");
    [["up", "👍", "有帮助"], ["down", "👎", "没有帮助"]].forEach(function (spec) {
      var button = el("button", "vote-" + spec[0], spec[1] + " " + spec[2]);
      button.type = "button";
      button.setAttribute("aria-label", spec[2]);
      button.setAttribute("aria-pressed", "false");
      button.addEventListener("click", function () {
        bar.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
        button.setAttribute("aria-pressed", "true");
        post("/web/feedback", { id: recordId, vote: spec[0] }).then(function () {
          note.textContent = "谢谢您的反馈！";
        }, function () {
          note.textContent = "反馈没有发送成功，请稍后再试。";
          bar.querySelectorAll("button").forEach(function (b) { b.disabled = false; });
          button.setAttribute("aria-pressed", "false");
        });
      });
      bar.appendChild(button);
    });
    bar.appendChild(note);
    return bar;
  }

  function render(bubble, data) {
    bubble.textContent = "";
    bubble.classList.remove("pending");
    bubble.removeAttribute("aria-busy");
    bubble.dataset.outcome = typeof data.outcome === "string" ? data.outcome : "";
    var reply = el("p", "reply");
    (Array.isArray(data.reply) ? data.reply : [{ text: String(data.reply || ""), bold: false }]).forEach(function (run) {
      reply.appendChild(run.bold ? el("strong", "", String(run.text)) : document.createTextNode(String(run.text)));
    });
    bubble.appendChild(reply);
    if (Array.isArray(data.suggestions) && data.suggestions.length) {
      bubble.appendChild(chipGroup("您是想问", data.suggestions, pick, false));
    }
    if (data.footer) { bubble.appendChild(el("p", "footer", String(data.footer))); }
    if (data.source) { bubble.appendChild(el("p", "source", String(data.source))); }
    if (Array.isArray(data.related) && data.related.length) {
      bubble.appendChild(chipGroup("相关问题", data.related, pick, true));
    }
    if (typeof data.id === "string" || typeof data.id === "number") {
      bubble.appendChild(voteBar(data.id));
    }
  }

  function exchange(shown, path, payload) {
    if (busy) { return; }
    busy = true;
    send.disabled = true;
    var mine = el("section", "msg user", shown);
    mine.setAttribute("aria-label", "您的问题");
    var bubble = el("section", "msg bot pending", "正在查询…");
    bubble.setAttribute("aria-label", "回答");
    bubble.setAttribute("aria-busy", "true");
    log.appendChild(mine);
    log.appendChild(bubble);
    scrollToEnd();
    post(path, payload).then(function (data) {
      render(bubble, data || {});
    }, function (error) {
      bubble.classList.remove("pending");
      bubble.removeAttribute("aria-busy");
      bubble.classList.add("error");
      bubble.textContent = error && error.message ? error.message : NETWORK_ERROR;
    }).then(function () {
      busy = false;
      send.disabled = false;
      scrollToEnd();
    });
  }

  function ask(question) {
    exchange(question, "/web/ask", { question: question });
  }

  function pick(item) {
    exchange(item.question, "/web/pick", { intent: item.intent });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var question = input.value.trim();
    if (!question || busy) { return; }
    input.value = "";
    ask(question);
    input.focus();
  });

  document.querySelectorAll("[data-question]").forEach(function (chip) {
    chip.addEventListener("click", function () { ask(chip.getAttribute("data-question") || ""); });
  });
})();
