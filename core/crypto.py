"""Encryption at rest and keyed lookup hashes for personal numbers (ID numbers, phones).

AES-256-GCM from `cryptography` (a fresh 96-bit nonce per value). Stored as
"v1:" + base64(nonce + ciphertext + tag) so a future key can be rolled in beside it.
The lookup hash is HMAC-SHA256 under a key derived from the same secret, so equal numbers
can be found and kept unique without being decrypted.
"""

import base64
import hashlib
import hmac
import os
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

_PREFIX = "v1:"


@lru_cache(maxsize=4)
def _keys(secret: str) -> tuple[AESGCM, bytes]:
    try:
        raw = base64.b64decode(secret, validate=True)
    except ValueError:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY must be base64") from None
    if len(raw) != 32:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY must decode to 32 bytes")
    enc_key = hmac.new(raw, b"yinling-encrypt", hashlib.sha256).digest()
    hash_key = hmac.new(raw, b"yinling-lookup", hashlib.sha256).digest()
    return AESGCM(enc_key), hash_key


def encrypt(value: str) -> str:
    if not value:
        return ""
    aead, _ = _keys(settings.FIELD_ENCRYPTION_KEY)
    nonce = os.urandom(12)
    sealed = aead.encrypt(nonce, value.encode(), None)
    return _PREFIX + base64.b64encode(nonce + sealed).decode()


def decrypt(token: str) -> str:
    if not token:
        return ""
    if not token.startswith(_PREFIX):
        raise ValueError("unknown ciphertext version")
    aead, _ = _keys(settings.FIELD_ENCRYPTION_KEY)
    blob = base64.b64decode(token[len(_PREFIX) :])
    return aead.decrypt(blob[:12], blob[12:], None).decode()


def lookup_hash(value: str) -> str:
    """Keyed hash of an already normalised value; '' for no value."""
    if not value:
        return ""
    _, key = _keys(settings.FIELD_ENCRYPTION_KEY)
    return hmac.digest(key, value.encode(), "sha256").hex()  # one-shot C path, same HMAC-SHA256
