"""One request, one effect: an API POST sent again with the same Idempotency-Key, or a page form sent twice (a
double click, a reload, a retry after a lost answer), gets the first answer and changes nothing more.

The key is written in the transaction of the work it guards, under a unique constraint per user: it commits with the
work or not at all. So a request whose work failed leaves its key free for a corrected retry; and of two requests
with one key at the same time, the second waits on the constraint until the first commits, then finds its key and
waits a moment for its answer, which is kept with the key as soon as the work is done. Keys are forgotten after
IDEMPOTENCY_KEY_HOURS.
"""
from __future__ import annotations

import hashlib
import json
import re
import secrets
import time
from collections.abc import Callable
from datetime import timedelta
from typing import NamedTuple

import sqlalchemy as sa
from flask import Response, current_app, g, redirect, request
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.kernel.errors import Conflict, InvalidData
from app.kernel.uow import unit_of_work
from app.models import IdempotencyKey, utcnow

KEY_MAX = 255
HEADER = "Idempotency-Key"
FORM_TOKEN = re.compile(r"[0-9a-f]{32}")
# How long a repeated request waits for the first one's answer before it is told to try again.
WAIT_SECONDS = 5.0


class StillRunning(Conflict):
    def __init__(self):
        super().__init__("A request with this Idempotency-Key is still being handled. Try again in a moment.")


class Once(NamedTuple):
    response: Response
    repeated: bool  # the answer is the first request's: this one changed nothing


def form_token() -> str:
    """A page form's one-time token: the one it was sent with, or a new one for a new form."""
    posted = request.form.get("form_token", "")
    return posted if FORM_TOKEN.fullmatch(posted) else secrets.token_hex(16)


def request_fingerprint() -> str:
    """The request as sent: method, path and body (JSON compared by its content, not its spacing or key order)."""
    payload = request.get_json(silent=True)
    body = request.get_data() if payload is None else json.dumps(payload, sort_keys=True).encode()
    return hashlib.sha256(b"\n".join([request.method.encode(), request.full_path.encode(), body])).hexdigest()


def once(key: str, work: Callable[[], Response], fingerprint: str | None = None) -> Once:
    """Runs `work` (the request's whole effect, answered as a response) once for the signed-in user and `key`.

    With a `fingerprint`, the key used before for a different request is refused (422); without, any request with
    the key is the same one (a page form's token). A key the first request still holds after WAIT_SECONDS: 409.
    """
    session = db.session
    user_id = g.user.id
    reserved_id, earlier = _reserve(user_id, key, fingerprint or "")
    if earlier is not None:
        if fingerprint is not None and earlier.fingerprint != fingerprint:
            raise InvalidData({HEADER: ["This key was used for a different request. Use a new key for a new "
                                        "request."]})
        if earlier.answer is None:
            raise StillRunning()
        return Once(_replay(earlier), True)
    try:
        response = work()
    finally:
        session.rollback()  # whatever the work did not commit is not kept, the reserved key among it
    answer = response.location if response.status_code in (301, 302, 303) else response.get_data(as_text=True)
    try:
        with unit_of_work("idempotency key") as work:
            stored = work.execute(sa.update(IdempotencyKey).where(IdempotencyKey.id == reserved_id)
                                  .values(status_code=response.status_code, answer=answer))
            if stored.rowcount == 0 and response.status_code < 400:
                # Succeeded without committing anything: keep the key and its answer now. (A refusal leaves it free.)
                work.add(IdempotencyKey(user_id=user_id, key=key, fingerprint=fingerprint or "", created_at=utcnow(),
                                        status_code=response.status_code, answer=answer))
    except IntegrityError:
        pass  # the same request, sent again meanwhile, got there first (the unit of work rolled this back)
    return Once(response, False)


def _reserve(user_id: int, key: str, fingerprint: str) -> tuple[int | None, sa.Row | None]:
    """Adds the key to the session's transaction when it is new: its id (the work goes ahead and commits it). Else
    the earlier request's row, once it has its answer or WAIT_SECONDS have passed."""
    session = db.session
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() <= deadline:
        _forget_expired(user_id, key)
        reserved = IdempotencyKey(user_id=user_id, key=key, fingerprint=fingerprint, created_at=utcnow())
        try:
            with session.begin_nested():
                session.add(reserved)
            return reserved.id, None
        except IntegrityError:
            session.rollback()  # holds no lock while it waits (SQLite's would stop the first request's answer)
        while True:
            earlier = session.execute(
                sa.select(IdempotencyKey.fingerprint, IdempotencyKey.status_code, IdempotencyKey.answer)
                .where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key)).first()
            session.rollback()  # the next look sees what has been committed since
            if earlier is None:
                break  # expired and forgotten meanwhile: reserve it afresh
            if earlier.answer is not None or time.monotonic() > deadline:
                return None, earlier
            time.sleep(0.05)
    raise StillRunning()


def _forget_expired(user_id: int, key: str) -> None:
    """Expired keys are deleted as new ones come: this one if it expired, and any others no one is deleting now
    (their answers may hold personal data, kept no longer than they serve)."""
    expired = IdempotencyKey.created_at < utcnow() - timedelta(hours=current_app.config["IDEMPOTENCY_KEY_HOURS"])
    db.session.execute(sa.delete(IdempotencyKey).where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key,
                                                       expired))
    db.session.execute(sa.delete(IdempotencyKey).where(IdempotencyKey.id.in_(
        sa.select(IdempotencyKey.id).where(expired).limit(100).with_for_update(skip_locked=True).scalar_subquery())))


def _replay(earlier: sa.Row) -> Response:
    if earlier.status_code in (301, 302, 303):
        return redirect(earlier.answer, earlier.status_code)
    return Response(earlier.answer, status=earlier.status_code, mimetype="application/json")
