// The admin console: dashboard, review queue, test view, knowledge base. Every string from the server (questions,
// entries, replies) is inserted with textContent, never as HTML. No inline script (CSP: script-src 'self').
"use strict";

(function () {
  const OUTCOMES = {
    answer: "直接回答",
    suggest: "给出建议",
    partial: "部分回答",
    fallback: "未能回答",
    smalltalk: "闲聊",
    empty: "空消息",
  };
  let csrf = "";
  let entryGroups = null;
  let chart = null;

  const $ = (id) => document.getElementById(id);

  function el(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (className) node.className = className;
    return node;
  }

  function say(id, text) {
    $(id).textContent = text;
  }

  function percent(share) {
    return (share * 100).toFixed(1) + "%";
  }

  async function api(path, options) {
    const init = { credentials: "same-origin", headers: { Accept: "application/json" } };
    if (options && options.body !== undefined) {
      init.method = "POST";
      init.headers["Content-Type"] = "application/json";
      init.headers["X-CSRF-Token"] = csrf;
      init.body = JSON.stringify(options.body);
    }
    const response = await fetch(path, init);
    if (response.status === 401) {
      window.location.assign("/admin/login");
      throw new Error("login required");
    }
    let data = null;
    try {
      data = await response.json();
    } catch (_) {
      data = null;
    }
    return { ok: response.ok, status: response.status, data: data || {} };
  }

  function fill(tbody, rows) {
    tbody.replaceChildren();
    for (const cells of rows) {
      const tr = document.createElement("tr");
      for (const cell of cells) tr.appendChild(el("td", cell));
      tbody.appendChild(tr);
    }
  }

  // -- dashboard -------------------------------------------------------------------------------------------

  function drawChart(perDay) {
    const labels = perDay.map((d) => d.date.slice(5));
    const counts = perDay.map((d) => d.count);
    const total = counts.reduce((a, b) => a + b, 0);
    say("daily-summary", `${perDay.length} 天共 ${total} 个问题；最多的一天 ${Math.max(0, ...counts)} 个。`);
    if (typeof window.Chart !== "function") {
      say("notice", "图表脚本没有加载，只显示数字。");
      return;
    }
    if (chart) chart.destroy();
    chart = new window.Chart($("daily-chart"), {
      type: "bar",
      data: { labels, datasets: [{ label: "问题数", data: counts, backgroundColor: "#b3261e" }] },
      options: {
        animation: false,
        maintainAspectRatio: false,
        plugins: { legend: { display: false } },
        scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
      },
    });
  }

  async function loadDashboard() {
    const { ok, data } = await api(`/admin/api/dashboard?days=${encodeURIComponent($("days").value)}`);
    if (!ok) {
      say("notice", data.message || "概览加载失败。");
      return;
    }
    say("card-questions", data.questions);
    say("card-answered", data.questions ? `${data.answered}（${percent(data.answered / data.questions)}）` : "0");
    say("card-up", data.feedback.up);
    say("card-down", data.feedback.down);
    fill(
      $("outcomes").tBodies[0],
      data.outcomes.map((o) => [OUTCOMES[o.outcome] || o.outcome, o.count, percent(o.share)]),
    );
    fill(
      $("top-intents").tBodies[0],
      data.top_intents.map((t) => [`${t.question}（${t.intent}）`, t.count]),
    );
    const list = $("unanswered");
    list.replaceChildren();
    if (!data.unanswered.length) list.appendChild(el("li", "这段时间没有没能回答的问题。", "empty"));
    for (const group of data.unanswered) {
      const item = el("li");
      item.appendChild(el("span", `×${group.count} `, "count"));
      item.appendChild(el("span", group.question, "question"));
      if (group.examples.length) item.appendChild(el("span", `（又如：${group.examples.join("；")}）`, "examples"));
      list.appendChild(item);
    }
    drawChart(data.per_day);
    showStatus(data.kb);
  }

  // -- review queue ----------------------------------------------------------------------------------------

  function entrySelect(id, chosen) {
    const select = el("select");
    select.id = id;
    select.appendChild(new Option("请选择条目…", ""));
    for (const topic of entryGroups) {
      const group = document.createElement("optgroup");
      group.label = topic.title;
      for (const entry of topic.entries) {
        const option = new Option(`${entry.question}（${entry.id}）`, entry.id);
        if (entry.id === chosen) option.selected = true;
        group.appendChild(option);
      }
      select.appendChild(group);
    }
    return select;
  }

  function reviewItem(item, index) {
    const li = el("li", null, "item");
    li.dataset.key = item.key;
    const title = el("p", null, "item-title");
    title.appendChild(el("span", `×${item.count} `, "count"));
    title.appendChild(el("span", item.question, "question"));
    li.appendChild(title);
    const kind = item.kind === "proposal" ? `建议加入条目：${item.entry_question}（${item.entry}）` : "没能回答的问题组";
    li.appendChild(el("p", kind, "kind"));
    if (item.questions.length > 1) li.appendChild(el("p", "同组问题：" + item.questions.slice(1).join("；"), "examples"));
    if (item.evidence) li.appendChild(el("p", "依据：" + item.evidence, "evidence"));
    const row = el("div", null, "inline");
    const selectId = `review-entry-${index}`;
    const label = el("label", "加为示例问题的条目");
    label.htmlFor = selectId;
    const select = entrySelect(selectId, item.entry);
    const accept = el("button", "接受");
    accept.type = "button";
    accept.className = "accept";
    const dismiss = el("button", "忽略");
    dismiss.type = "button";
    dismiss.className = "quiet dismiss";
    row.append(label, select, accept, dismiss);
    li.appendChild(row);
    const errors = el("ul", null, "errors");
    li.appendChild(errors);
    const body = { kind: item.kind, question: item.question, entry: item.entry };

    accept.addEventListener("click", async () => {
      if (!select.value) {
        say("review-status", "请先选择条目。");
        select.focus();
        return;
      }
      accept.disabled = true;
      say("review-status", "正在写入知识库并重新加载…");
      const { ok, data } = await api("/admin/api/review/accept", {
        body: { ...body, target: select.value, questions: item.kind === "proposal" ? item.questions : [item.question] },
      });
      accept.disabled = false;
      errors.replaceChildren();
      if (ok) {
        say("review-status", `已加入条目 ${select.value}，知识库已重新加载（版本 ${data.version}）。`);
        li.remove();
        showStatus(null);
      } else {
        say("review-status", data.message || "没有写入：知识库校验未通过，旧的知识库继续服务。");
        for (const error of data.errors || []) errors.appendChild(el("li", error));
      }
    });
    dismiss.addEventListener("click", async () => {
      const { ok, data } = await api("/admin/api/review/dismiss", { body });
      if (ok) {
        say("review-status", `已忽略：${item.question}`);
        li.remove();
      } else {
        say("review-status", data.message || "忽略失败。");
      }
    });
    return li;
  }

  async function loadReview() {
    if (entryGroups === null) {
      const { ok, data } = await api("/admin/api/entries");
      entryGroups = ok ? data.topics : [];
    }
    const { ok, data } = await api("/admin/api/review");
    const list = $("review-list");
    list.replaceChildren();
    if (!ok) {
      say("review-status", data.message || "待审列表加载失败。");
      return;
    }
    if (!data.items.length) list.appendChild(el("li", "没有待审的内容。", "empty"));
    data.items.forEach((item, index) => list.appendChild(reviewItem(item, index)));
  }

  // -- test view -------------------------------------------------------------------------------------------

  async function tryQuestion(event) {
    event.preventDefault();
    const question = $("try-question").value.trim();
    if (!question) return;
    const { ok, data } = await api("/admin/api/try", { body: { question } });
    if (!ok) {
      say("notice", data.message || "测试失败。");
      return;
    }
    $("try-result").hidden = false;
    say("try-outcome", `${OUTCOMES[data.outcome] || data.outcome}${data.intent ? "（" + data.intent + "）" : ""}`);
    $("try-result").dataset.outcome = data.outcome;
    say("try-reply", data.reply);
    say("try-source", data.source);
    const explanation = data.explanation;
    const decision = explanation.decision;
    say("try-reason", `${decision.reason}（置信度 ${decision.confidence.toFixed(3)}）`);
    say("try-tokens", explanation.tokens.map((t) => `${t.token}(${t.weight})`).join(" "));
    fill(
      $("try-candidates").tBodies[0],
      explanation.candidates.map((c) => [
        `${c.question}（${c.intent}）`,
        c.score.toFixed(1),
        c.coverage.toFixed(2),
        c.example,
        c.features.map((f) => `${f.feature} ${f.value} → ${f.points >= 0 ? "+" : ""}${f.points}`).join("；"),
      ]),
    );
  }

  // -- knowledge base --------------------------------------------------------------------------------------

  async function showStatus(status) {
    let kb = status;
    if (!kb) {
      const { ok, data } = await api("/admin/api/status");
      if (!ok) return;
      kb = data;
    }
    say("kb-version", kb.version);
    say("kb-entries", kb.entries);
    say("kb-loaded", kb.loaded_at);
  }

  async function reload() {
    $("reload").disabled = true;
    say("kb-status", "正在重新加载…");
    const { ok, data } = await api("/admin/api/reload", { body: {} });
    $("reload").disabled = false;
    const errors = $("kb-errors");
    errors.replaceChildren();
    if (ok) {
      say("kb-status", `已重新加载：版本 ${data.version}，${data.entries} 个条目。`);
    } else {
      say("kb-status", data.message || "知识库校验未通过，旧的知识库继续服务。");
      for (const error of data.errors || []) errors.appendChild(el("li", error));
    }
    showStatus(null);
  }

  async function logout() {
    await api("/admin/logout", { body: {} });
    window.location.assign("/admin/login");
  }

  async function start() {
    const { ok, data } = await api("/admin/api/session");
    if (!ok) return;
    csrf = data.csrf;
    $("days").addEventListener("change", loadDashboard);
    $("try-form").addEventListener("submit", tryQuestion);
    $("reload").addEventListener("click", reload);
    $("logout").addEventListener("click", logout);
    await Promise.all([loadDashboard(), loadReview()]);
    document.body.dataset.ready = "true";
  }

  start();
})();
