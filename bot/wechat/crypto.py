"""WeChat's message signature and encryption (Official Account safe mode and WeCom share the algorithm).

AES-256-CBC from `cryptography` with key = base64(EncodingAESKey + "="), IV = key[:16], PKCS#7 padding to
32-byte blocks; the plaintext is 16 random bytes, a 4-byte big-endian length, the XML, then the app id.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK_BITS = 32 * 8
"""WeChat pads to 32-byte blocks, not AES's 16."""


class CryptoError(ValueError):
    """A ciphertext that does not decrypt to a message for this app (bad key, padding, length or app id)."""


def signature(*parts: str) -> str:
    """Return WeChat's SHA-1 signature: the parts sorted, concatenated, hashed, in hex."""
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


def signature_ok(expected: str | None, *parts: str) -> bool:
    """Return True when expected is the signature of parts (compared in constant time)."""
    if not expected:
        return False
    return hmac.compare_digest(signature(*parts).encode(), expected.strip().lower().encode("utf-8", "replace"))


def decode_aes_key(encoding_aes_key: str) -> bytes:
    """Return the 32-byte AES key of a 43-character EncodingAESKey, or raise ValueError."""
    if len(encoding_aes_key) != 43:
        raise ValueError("EncodingAESKey must be 43 characters")
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except binascii.Error:
        raise ValueError("EncodingAESKey is not base64") from None
    if len(key) != 32:
        raise ValueError("EncodingAESKey does not decode to 32 bytes")
    return key


class MessageCrypto:
    """Encrypts and decrypts message bodies for one app id (Official Account app id or WeCom corp id)."""

    def __init__(self, encoding_aes_key: str, app_id: str) -> None:
        self._key = decode_aes_key(encoding_aes_key)
        self._app_id = app_id.encode("utf-8")

    def encrypt(self, text: str, random16: bytes | None = None) -> str:
        """Return the base64 ciphertext of text (random16 fixes the random prefix, for tests only)."""
        prefix = os.urandom(16) if random16 is None else random16
        body = text.encode("utf-8")
        plain = prefix + struct.pack(">I", len(body)) + body + self._app_id
        padder = padding.PKCS7(BLOCK_BITS).padder()
        padded = padder.update(plain) + padder.finalize()
        encryptor = Cipher(algorithms.AES(self._key), modes.CBC(self._key[:16])).encryptor()
        return base64.b64encode(encryptor.update(padded) + encryptor.finalize()).decode("ascii")

    def decrypt(self, ciphertext: str) -> str:
        """Return the message inside a base64 ciphertext, or raise CryptoError when it is not for this app."""
        try:
            raw = base64.b64decode(ciphertext, validate=True)
        except (binascii.Error, ValueError):
            raise CryptoError("ciphertext is not base64") from None
        if not raw or len(raw) % 16:
            raise CryptoError("ciphertext length is not a multiple of the AES block")
        decryptor = Cipher(algorithms.AES(self._key), modes.CBC(self._key[:16])).decryptor()
        padded = decryptor.update(raw) + decryptor.finalize()
        unpadder = padding.PKCS7(BLOCK_BITS).unpadder()
        try:
            plain = unpadder.update(padded) + unpadder.finalize()
        except ValueError:
            raise CryptoError("bad padding") from None
        if len(plain) < 20:
            raise CryptoError("plaintext too short")
        (length,) = struct.unpack(">I", plain[16:20])
        if 20 + length > len(plain):
            raise CryptoError("declared length exceeds the plaintext")
        body, app_id = plain[20 : 20 + length], plain[20 + length :]
        if not hmac.compare_digest(app_id, self._app_id):
            raise CryptoError("message is for another app id")
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            raise CryptoError("message is not UTF-8") from None
