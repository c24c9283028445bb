"""Sealing a pending response's answers, so that a database dump alone cannot read them.

Answers wait in ``PendingResponse`` until their round is finalized, and while they wait their row
was written in the same transaction as the answerer's ``Participation``. The answers are
therefore encrypted (Fernet) under a key derived from ``SECRET_KEY`` with a salt used for
nothing else; ``SECRET_KEY_FALLBACKS`` still opens answers sealed before a key rotation.

- Every token has the same length (every item, one digit each, and a fixed-length binding), and
  its Fernet timestamp is zero: the token carries no time of answering.
- The payload is bound to its row (round, pending id, position group): a copy of someone's token
  in another row, another round or another group is refused, so someone who can write to the
  database but lacks the key cannot multiply one person's answers into a group of five.
"""

import base64
import hashlib
import json

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

from .survey_items import ITEMS, ITEMS_BY_KEY, SCALE_VALUES

# Changing the salt makes every pending response unreadable: never change it while a round is open.
SALT = b"dl_portal.leadership.pending-response.v1"


class SealBroken(Exception):
    """A pending response cannot be opened: the key it was sealed with is gone, or the row was
    altered or copied."""


def _fernet_key(secret):
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=SALT, info=b"fernet").derive(
        secret.encode()
    )
    return base64.urlsafe_b64encode(derived)


def _fernet():
    secrets = [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
    return MultiFernet([Fernet(_fernet_key(secret)) for secret in secrets])


def _binding(pending):
    # Hashed so that every payload has the same length, whatever the round or group.
    row = f"{pending.round_id}/{pending.pk}/{pending.position}"
    return hashlib.sha256(row.encode()).hexdigest()


def seal_answers(answers, *, pending):
    """``answers`` (item key → 1–5, every item) as an opaque token for the row ``pending``, whose
    round, id and position must be set."""
    payload = {
        "answers": {item.key: int(answers[item.key]) for item in ITEMS},
        "row": _binding(pending),
    }
    data = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    return _fernet().encrypt_at_time(data, current_time=0).decode()


def open_answers(pending):
    """The item key → value mapping sealed in ``pending``; raises SealBroken if it cannot be
    read or was sealed for another row."""
    try:
        payload = json.loads(_fernet().decrypt(pending.sealed_answers.encode()))
    except (InvalidToken, ValueError) as error:
        raise SealBroken(
            "A pending survey response cannot be decrypted. Was SECRET_KEY changed without "
            "keeping the old key in SECRET_KEY_FALLBACKS?"
        ) from error
    if payload.get("row") != _binding(pending):
        raise SealBroken("A pending survey response was sealed for another row.")
    answers = payload.get("answers") or {}
    if not (set(answers) <= ITEMS_BY_KEY.keys() and set(answers.values()) <= set(SCALE_VALUES)):
        raise SealBroken("A pending survey response holds an unknown item or an off-scale value.")
    return answers
