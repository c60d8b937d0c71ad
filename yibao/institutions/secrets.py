"""Institutions' signing secrets, sealed with AES-GCM under a key kept outside the database.

The signature of the national interface needs the secret itself (SHA-256 of timestamp + secret + nonce +
timestamp), so it cannot be stored hashed: it is stored sealed (AES-256-GCM, a random 96-bit nonce per
sealing, the institution's code as associated data so that a sealed secret cannot be moved to another
row). The key comes from ``YIBAO_SECRET_KEY`` (64 hex characters) or, when that is not set, from the file
``secret.key`` under the var folder, created on first use with mode 0600. Opened secrets are cached per
process, keyed by the sealed value (new at every rotation), so a signature check costs microseconds; a rotated
secret has a new version and is opened afresh. Secrets are never logged.
"""

from __future__ import annotations

import base64
import os
import secrets
import threading
from functools import lru_cache
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from yibao.core.settings import get_settings

KEY_ENV = "YIBAO_SECRET_KEY"
KEY_FILE = "secret.key"
_NONCE_BYTES = 12

_opened: dict[tuple[str, str], str] = {}
_lock = threading.Lock()


def new_secret() -> str:
    """A fresh secret for an institution: 32 URL-safe characters (192 random bits)."""
    return secrets.token_urlsafe(24)


def _key_file() -> Path:
    return get_settings().var_dir / KEY_FILE


def _create_key_file(path: Path) -> None:
    """Write a new key with mode 0600; when several processes race, the first one's key wins."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, (secrets.token_hex(32) + "\n").encode())
    finally:
        os.close(fd)
    try:
        os.link(tmp, path)  # atomic, and refuses to replace a key another process wrote first
    except FileExistsError:
        pass
    finally:
        tmp.unlink()


@lru_cache(maxsize=4)
def _key_for(env_value: str | None, path: Path) -> bytes:
    text = env_value
    if text is None:
        if not path.exists():
            _create_key_file(path)
        text = path.read_text().strip()
    try:
        key = bytes.fromhex(text.strip())
    except ValueError:
        raise RuntimeError(f"{KEY_ENV} (or {path}) must hold 64 hex characters") from None
    if len(key) != 32:
        raise RuntimeError(f"{KEY_ENV} (or {path}) must hold 64 hex characters (a 256-bit key)")
    return key


def key() -> bytes:
    """This deployment's sealing key (from the environment, else the key file, created on first use)."""
    return _key_for(os.environ.get(KEY_ENV), _key_file())


def key_hex() -> str:
    """The key as hex, for handing to a server process started by tests and benchmarks."""
    return key().hex()


def seal(secret: str, code: str) -> str:
    """A secret sealed for storage in the institution row of ``code``."""
    nonce = os.urandom(_NONCE_BYTES)
    sealed = AESGCM(key()).encrypt(nonce, secret.encode(), code.encode())
    return base64.b64encode(nonce + sealed).decode()


def unseal(sealed: str, code: str) -> str:
    """The secret of a sealed value (raises if the key or the code does not match)."""
    raw = base64.b64decode(sealed)
    return AESGCM(key()).decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], code.encode()).decode()


def opened(sealed: str, code: str) -> str:
    """The secret of an institution row, opened once per process and sealed value.

    Each sealing draws a fresh nonce, so a rotated secret (or another database's row) never meets a
    cached value of another one.
    """
    found = _opened.get((sealed, code))
    if found is None:
        found = unseal(sealed, code)
        with _lock:
            _opened[(sealed, code)] = found
    return found
