"""WeChat's encryption checked against the worked example wechatpy's tests carry (WeCom's documented values)."""

from __future__ import annotations

import pytest

from bot.wechat.crypto import CryptoError, MessageCrypto, decode_aes_key, signature, signature_ok

# tests/test_crypto.py of github.com/wechatpy/wechatpy: token, EncodingAESKey, corp id, a fixed random prefix.
TOKEN = "123456"
AES_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"
CORP_ID = "wx49f0ab532d5d035a"
TIMESTAMP = "1411525903"
NONCE = "461056294"
REPLY = """<xml>
<MsgType><![CDATA[text]]></MsgType>
<Content><![CDATA[test]]></Content>
<FromUserName><![CDATA[wx49f0ab532d5d035a]]></FromUserName>
<ToUserName><![CDATA[messense]]></ToUserName>
<AgentID>1</AgentID>
<CreateTime>1411525903</CreateTime>
</xml>"""
REPLY_ENCRYPTED = (
    "9s4gMv99m88kKTh/H8IdkOiMg6bisoy3ypwy9H4hvSPe9nsGaqyw5hhSjdYbcrKk+j3nba4HMOTzHrluLBYqxgNcBqGsL8GqxlhZgURnAtObv"
    "esEl5nZ+uBE8bviY0LWke8Zy9V/QYKxNV2FqllNXcfmstttyIkMKCCmVbCFM2JTF5wY0nFhHZSjPUL2Q1qvSUCUld+/WIXrx0oyKQmpB6o8N"
    "RrrNrsDf03oxI1p9FxUgMnwKKZeOA/uu+2IEvEBtb7muXsVbwbgX05UPPJvFurDXafG0RQyPR+mf1nDnAtQmmNOuiR5MIkdQ39xn1vWwi1O5o"
    "azPoQJz0nTYjxxEE8kv3kFxtAGVRe3ypD3WeK2XeFYFMNMpatF9XiKzHo3"
)
REPLY_SIGNATURE = "407518b7649e86ef23978113f92d27afa9296533"
INCOMING_ENCRYPTED = (
    "RgqEoJj5A4EMYlLvWO1F86ioRjZfaex/gePD0gOXTxpsq5Yj4GNglrBb8I2BAJVODGajiFnXBu7mCPatfjsu6IHCrsTyeDXzF6Bv283dGymz"
    "xh6ydJRvZsryDyZbLTE7rhnus50qGPMfp2wASFlzEgMW9z1ef/RD8XzaFYgm7iTdaXpXaG4+BiYyolBug/gYNx410cvkKR2/nPwBiT+P4hIiOAQ"
    "qGp/TywZBtDh1yCF2KOd0gpiMZ5jSw3e29mTvmUHzkVQiMS6td7vXUaWOMZnYZlF3So2SjHnwh4jYFxdgpkHHqIrH/54SNdshoQgWYEvccTKe7"
    "FS709/5t6NMxuGhcUGAPOQipvWTT4dShyqio7mlsl5noTrb++x6En749zCpQVhDpbV6GDnTbcX2e8K9QaNWHp91eBdCRxthuL0="
)
INCOMING_SIGNATURE = "74d92dfeb87ba7c714f89d98870ae5eb62dff26d"


def test_encryption_matches_the_worked_example() -> None:
    crypto = MessageCrypto(AES_KEY, CORP_ID)
    encrypted = crypto.encrypt(REPLY, random16=b"1234567890123456")
    assert encrypted == REPLY_ENCRYPTED
    assert signature(TOKEN, TIMESTAMP, NONCE, encrypted) == REPLY_SIGNATURE


def test_decryption_and_signature_of_the_worked_incoming_message() -> None:
    assert signature_ok(INCOMING_SIGNATURE, TOKEN, TIMESTAMP, NONCE, INCOMING_ENCRYPTED)
    assert not signature_ok(INCOMING_SIGNATURE, TOKEN, TIMESTAMP, "461056295", INCOMING_ENCRYPTED)
    message = MessageCrypto(AES_KEY, CORP_ID).decrypt(INCOMING_ENCRYPTED)
    assert "<Content><![CDATA[test]]></Content>" in message
    assert "<FromUserName><![CDATA[messense]]></FromUserName>" in message


def test_a_message_for_another_app_id_is_refused() -> None:
    with pytest.raises(CryptoError, match="another app id"):
        MessageCrypto(AES_KEY, "wx0000000000000000").decrypt(INCOMING_ENCRYPTED)


@pytest.mark.parametrize("ciphertext", ["", "not base64!", "QUJD", INCOMING_ENCRYPTED[:-24]])
def test_garbage_ciphertext_is_a_crypto_error(ciphertext: str) -> None:
    with pytest.raises(CryptoError):
        MessageCrypto(AES_KEY, CORP_ID).decrypt(ciphertext)


@pytest.mark.parametrize("key", ["", "short", AES_KEY + "A", "!" * 43])
def test_a_malformed_encoding_aes_key_is_refused(key: str) -> None:
    with pytest.raises(ValueError):
        decode_aes_key(key)
