"""Turn answers into Telegram HTML: escaped text, figures in bold, a source line; and the fixed texts."""

from __future__ import annotations

from html import escape

from intents import Answer, Outcome
from intents.engine import SUGGEST_FOOTER, SUGGEST_HEADER
from knowledge import KnowledgeBase, Topic

NOT_TEXT = "请用文字提问，例如：企业开办要几天？"
EMPTY_ASK = "请在 /ask 后面写上您的问题，例如：/ask 企业开办要几天"
EMPTY_MENTION = "请在提到我的同时写上您的问题，例如：@{username} 企业开办要几天"
FLOOD_NOTICE = "提问太频繁了，请稍等片刻再问。"
STALE_BUTTON = "这个按钮已失效，请重新提问。"
UNKNOWN_COMMAND = "没有这个命令。直接发送问题即可，或发送 /help 查看用法。"
APOLOGY = "抱歉，处理您的消息时出了点问题，请稍后再试；急事可拨打12345热线。"
HOTLINE_BUTTON = "都不是 · 打12345"
NOTHING_UNANSWERED = "本周没有未能回答的问题。"
NO_RELOAD = "这个进程不支持重新加载知识库。"
RELOADED = "知识库已重新加载：版本 {version}，{entries} 个条目。"
RELOAD_REFUSED = "新的知识库有错误，未加载；仍在使用版本 {version}："
VOTE_UP = "👍 有帮助"
VOTE_DOWN = "👎 没帮助"
THANKS = "谢谢您的反馈！"
WHY_DOWN = "谢谢！能告诉我们哪里不好吗？"
TOPICS_BUTTON = "浏览可咨询的主题"
ALL_TOPICS_BUTTON = "« 全部主题"
BACK_BUTTON = "« 返回"
PREVIOUS_PAGE = "‹ 上一页"
NEXT_PAGE = "下一页 ›"


def bold_figures(text: str, figures: tuple[str, ...]) -> str:
    """Return text as escaped HTML with every occurrence of the figures in bold (longest figure wins)."""
    ordered = sorted({f for f in figures if f}, key=len, reverse=True)
    out: list[str] = []
    plain_start = i = 0
    while i < len(text):
        figure = next((f for f in ordered if text.startswith(f, i)), None)
        if figure is None:
            i += 1
            continue
        out.append(escape(text[plain_start:i], quote=False))
        out.append(f"<b>{escape(figure, quote=False)}</b>")
        i = plain_start = i + len(figure)
    out.append(escape(text[plain_start:], quote=False))
    return "".join(out)


def render_answer(answer: Answer) -> str:
    """Return the reply as Telegram HTML: the answer (figures bold), then its source line in italics."""
    body = answer.reply
    if answer.outcome is Outcome.SUGGEST:
        lines = [f"{i}. {s.question}" for i, s in enumerate(answer.suggestions, 1)]
        body = "\n".join([SUGGEST_HEADER, *lines, SUGGEST_FOOTER])
    html = bold_figures(body, answer.figures)
    if answer.source_line:
        html += f"\n\n<i>{escape(answer.source_line, quote=False)}</i>"
    return html


def start_text(kb: KnowledgeBase) -> str:
    """Return the /start greeting: what the assistant knows and how to ask."""
    topics = "\n".join(f"• {escape(t.title, quote=False)}" for t in kb.topics)
    return (
        "您好！我是呼和浩特营商环境与政务服务问答助手，答案都来自公开报道，并注明出处。\n\n"
        f"我能回答这些方面的问题：\n{topics}\n\n"
        "直接发送您的问题即可，也可以点下面的例子试试："
    )


def help_text(username: str) -> str:
    """Return the /help text: how to ask in each kind of chat, and the commands."""
    name = escape(username, quote=False)
    return (
        "<b>怎么提问</b>\n"
        "• 私聊：直接发送问题，例如“企业开办要几天”。\n"
        f"• 群组：@{name} 加上问题，回复我的消息，或发送 /ask 问题。\n"
        f"• 任意聊天中输入 @{name} 和关键词，可以直接选用答案。\n\n"
        "<b>命令</b>\n"
        "/topics 浏览可咨询的主题\n"
        "/ask 问题 — 提问\n"
        "/hotline 12345热线与“办不成事”窗口\n"
        "/start 简介与示例问题\n\n"
        "找不到答案时，我会如实说明，并建议拨打12345热线。"
    )


def topics_text(page: int, pages: int) -> str:
    """Return the heading of the topic list."""
    suffix = f"（第 {page + 1}/{pages} 页）" if pages > 1 else ""
    return f"请选择一个主题{suffix}："


def topic_text(topic: Topic, page: int, pages: int) -> str:
    """Return the heading of one topic's question list."""
    suffix = f"（第 {page + 1}/{pages} 页）" if pages > 1 else ""
    return f"<b>{escape(topic.title, quote=False)}</b>\n请选择您想问的问题{suffix}："


def inline_description(answer: Answer, limit: int = 60) -> str:
    """Return a one-line preview of a reply for an inline result."""
    text = " ".join(answer.reply.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
