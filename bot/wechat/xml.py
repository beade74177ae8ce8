"""WeChat's XML: parsed with defusedxml (no DOCTYPE, no entities, ever) and replies built with CDATA."""

from __future__ import annotations

import re
from dataclasses import dataclass
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

MAX_FIELDS = 64
"""A WeChat message has about ten fields; more is not a WeChat message."""

_NOT_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class XmlError(ValueError):
    """A body that is not a WeChat XML message; the message says why, in Chinese, for the caller."""


@dataclass(frozen=True, slots=True)
class Message:
    """One message or event WeChat posts, with the fields the adapter uses (empty when absent)."""

    to_user: str
    from_user: str
    create_time: str
    msg_type: str
    content: str = ""
    msg_id: str = ""
    event: str = ""
    recognition: str = ""
    encrypt: str = ""

    @property
    def dedup_key(self) -> str:
        """Return what identifies a retry: the MsgId, or sender and CreateTime for events (as WeChat advises)."""
        return f"id:{self.msg_id}" if self.msg_id else f"ev:{self.from_user}:{self.create_time}:{self.event}"


def parse_fields(body: bytes) -> dict[str, str]:
    """Return the top-level elements of `<xml>…</xml>` as name → text, or raise XmlError."""
    try:
        root = fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise XmlError("XML 中不允许 DOCTYPE 或实体声明。") from None
    except (ParseError, ValueError, LookupError, RecursionError):  # LookupError: an unknown declared encoding
        raise XmlError("请求体不是有效的 XML。") from None
    if root.tag != "xml":
        raise XmlError("XML 的根元素必须是 <xml>。")
    if len(root) > MAX_FIELDS:
        raise XmlError("XML 字段过多。")
    return {child.tag: (child.text or "").strip() for child in root if isinstance(child.tag, str)}


def parse_message(body: bytes) -> Message:
    """Return the message in a (decrypted) WeChat XML body, or raise XmlError naming what is missing."""
    fields = parse_fields(body)
    missing = [name for name in ("ToUserName", "FromUserName", "MsgType") if not fields.get(name)]
    if missing:
        raise XmlError(f"XML 缺少字段：{'、'.join(missing)}。")
    return Message(
        to_user=fields["ToUserName"],
        from_user=fields["FromUserName"],
        create_time=fields.get("CreateTime", ""),
        msg_type=fields["MsgType"].lower(),
        content=fields.get("Content", ""),
        msg_id=fields.get("MsgId", ""),
        event=fields.get("Event", "").lower(),
        recognition=fields.get("Recognition", ""),
        encrypt=fields.get("Encrypt", ""),
    )


def cdata(text: str) -> str:
    """Return text as a CDATA section: characters XML cannot carry dropped, `]]>` split across sections."""
    clean = _NOT_XML_CHARS.sub("", text)
    return "<![CDATA[" + clean.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def text_reply(message: Message, content: str, create_time: int) -> str:
    """Return the passive text reply to message: To/From swapped, CreateTime, MsgType text, the content."""
    return (
        "<xml>"
        f"<ToUserName>{cdata(message.from_user)}</ToUserName>"
        f"<FromUserName>{cdata(message.to_user)}</FromUserName>"
        f"<CreateTime>{create_time}</CreateTime>"
        "<MsgType><![CDATA[text]]></MsgType>"
        f"<Content>{cdata(content)}</Content>"
        "</xml>"
    )


def encrypted_reply(encrypt: str, msg_signature: str, timestamp: str, nonce: str) -> str:
    """Return the safe-mode envelope of an encrypted reply."""
    return (
        "<xml>"
        f"<Encrypt>{cdata(encrypt)}</Encrypt>"
        f"<MsgSignature>{cdata(msg_signature)}</MsgSignature>"
        f"<TimeStamp>{cdata(timestamp)}</TimeStamp>"
        f"<Nonce>{cdata(nonce)}</Nonce>"
        "</xml>"
    )
