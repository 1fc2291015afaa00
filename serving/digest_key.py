"""The secret of the prediction store's keyed digests, kept outside the store.

The store finds claims scored before by an HMAC-SHA256 of their duplicate key (patient,
service date, procedure code). Those values are few and guessable, so a plain hash could be
reversed by trying them all; with a secret key it cannot, as long as the key is not where the
store is copied to. The key is 32 random bytes, written as 64 hexadecimal characters in a file
(``CLAIMRISK_SERVE_DIGEST_KEY_FILE``, a secrets mount, say). Without that setting it is
``digest.key`` beside the prediction store, created at first start (mode 0600); a file that was
named explicitly must exist, so a missing secrets mount never silently starts a new key (which
would forget every earlier claim). Nothing here logs the key.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import stat
import tempfile
from pathlib import Path

log = logging.getLogger("claimrisk.serving")
KEY_BYTES = 32
DEFAULT_NAME = "digest.key"


class DigestKeyError(RuntimeError):
    """The key cannot be read or created; the message names the file and why (never the key)."""


def digest(key: bytes, value: int) -> bytes:
    """The keyed digest of one duplicate key (a uint64)."""
    return hmac.digest(key, value.to_bytes(8, "big"), hashlib.sha256)


def key_file(configured: Path | None, prediction_store: Path) -> Path:
    """The configured file, else ``digest.key`` beside the prediction store."""
    return configured if configured is not None else prediction_store.parent / DEFAULT_NAME


def load_key(path: Path, create: bool) -> bytes:
    """The key in ``path``; created there first when missing and ``create``."""
    if not path.exists():
        if not create:
            raise DigestKeyError(f"{path}: no such digest key file")
        _create(path)
    try:
        text = path.read_text(encoding="ascii").strip()
        mode = path.stat().st_mode
    except (OSError, UnicodeDecodeError) as error:
        raise DigestKeyError(
            f"{path}: cannot read the digest key: {type(error).__name__}"
        ) from error
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) < KEY_BYTES:
        raise DigestKeyError(
            f"{path}: not a digest key (expected at least {2 * KEY_BYTES} hexadecimal characters)"
        )
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("digest key file %s can be read by other users: chmod 600 it", path)
    return key


def _create(path: Path) -> None:
    """A new random key, published whole or not at all: written to a private temporary file,
    then linked into place, so workers starting together all end up with the one that won."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".digest-", dir=path.parent)  # mode 0600
        try:
            with os.fdopen(handle, "w", encoding="ascii") as file:
                file.write(secrets.token_hex(KEY_BYTES) + "\n")
                file.flush()
                os.fsync(file.fileno())
            os.link(temporary, path)
        except FileExistsError:
            return  # another worker created it first: theirs is the key
        finally:
            os.unlink(temporary)
    except OSError as error:
        raise DigestKeyError(
            f"{path}: cannot create the digest key: {type(error).__name__}: {error.strerror}"
        ) from error
    log.info("created a new digest key in %s (back it up apart from the prediction store)", path)
