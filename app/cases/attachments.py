"""Files on a concern (a photo or screenshot, a PDF): attached when it is raised, or later by its reporter or an
officer working on it. The upload rules are the kernel's (app/kernel/files.py: type told by content, the whole file
sound, a size limit); the file is kept in the database (StoredFile), audited, and served only as a download.

Who sees which file: officers and the Lead with full access to the case see every one; the reporter sees the files
they added themselves, never the officers' (their work on a concern is confidential). Everyone else: no such case.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload, undefer

from app.kernel import audit, files
from app.kernel.errors import Conflict, Forbidden, InvalidData, NotFound
from app.kernel.security import CaseAccess, can, case_access
from app.kernel.uow import unit_of_work
from app.models import Case, CaseAttachment, CaseEntry, StoredFile

# At most this many files with one concern (each within UPLOAD_MAX_BYTES, the request within MAX_CONTENT_LENGTH).
MAX_FILES_AT_RAISING = 5
# The kinds a concern takes: a photo or screenshot, a PDF or a Word document (as configured in UPLOAD_TYPES).
CONCERN_KINDS = ("pdf", "png", "jpeg", "docx")
Upload = tuple[str, bytes]  # (the file's name as sent, its content)


def check_uploads(refuse: Callable[[str, str], None], uploads: Sequence[Upload], actor,
                  field: str = "attachments") -> list[StoredFile]:
    """The files sent, each checked by the upload rules; a refused one is told to `refuse(field, message)`, naming it
    (the caller's form errors)."""
    if len(uploads) > MAX_FILES_AT_RAISING:
        refuse(field, f"Attach at most {MAX_FILES_AT_RAISING} files; add more to the concern afterwards.")
        return []
    kept = []
    for filename, data in uploads:
        try:
            kept.append(files.stored_file(filename, data, actor.id, CONCERN_KINDS))
        except ValueError as exc:
            refuse(field, f"{filename or 'The file'}: {exc}" if len(uploads) > 1 else str(exc))
    return kept


def keep(session: Session, actor, case: Case, stored: Sequence[StoredFile]) -> list[CaseAttachment]:
    """Attaches checked files to `case` in the caller's unit of work: audited, and told in the chronology."""
    attachments = [CaseAttachment(case_id=case.id, file=file, added_by_id=actor.id) for file in stored]
    session.add_all([*stored, *attachments])
    session.flush()
    for attachment in attachments:
        audit.record(session, actor, "upload_file", attachment.file, case_id=case.id)
        audit.record(session, actor, "add_attachment", attachment)
        # Told in the chronology; the entry is covered by the attachment's event (app/kernel/audit.py).
        session.add(CaseEntry(case_id=case.id, actor_id=actor.id, kind="attachment_added",
                              summary=f"File attached: {attachment.file.filename}",
                              data={"attachment_id": attachment.id, "size": attachment.file.size}))
    return attachments


def case_for_addition(session: Session, actor, case_id: int) -> Case:
    """The case, for its reporter or an officer (with full access) to add to: 404 for anyone else, 409 once closed."""
    access = case_access(session, actor, case_id)
    if access is CaseAccess.NONE:
        raise NotFound("case")
    case = session.get_one(Case, case_id)
    if case.reporter_id != actor.id and not can(actor, "can_transition"):
        raise NotFound("case")
    if not case.is_open:
        raise Conflict("This concern is closed. If something new has happened, raise a new concern, or call a "
                       "Safeguarding Officer.", case.status.value)
    return case


def add_attachment(actor, case_id: int, filename: str, data: bytes) -> CaseAttachment:
    """The reporter (on their own concern) or an officer working on the case attaches a file."""
    if not can(actor, "can_read"):
        raise Forbidden()
    with unit_of_work() as session:
        case = case_for_addition(session, actor, case_id)
        refused: dict[str, list[str]] = {}
        stored = check_uploads(lambda name, message: refused.setdefault(name, []).append(message),
                               [(filename, data)], actor, field="file")
        if refused:
            raise InvalidData(refused)
        return keep(session, actor, case, stored)[0]


def visible_attachments(session: Session, actor, case: Case, access: CaseAccess) -> Sequence[CaseAttachment]:
    """The files on `case` this user may see (see the module's docstring), oldest first, without their content."""
    query = (sa.select(CaseAttachment).where(CaseAttachment.case_id == case.id)
             .options(selectinload(CaseAttachment.file), selectinload(CaseAttachment.added_by))
             .order_by(CaseAttachment.added_at, CaseAttachment.id))
    if access is CaseAccess.NONE:
        return []
    if access is CaseAccess.REPORTER:
        query = query.where(CaseAttachment.added_by_id == actor.id)
    return session.scalars(query).all()


def attachment_file(session: Session, actor, case_id: int, attachment_id: int) -> StoredFile:
    """A file on a case, with its content, for someone who may see it; 404 otherwise (the same as no such file)."""
    if not can(actor, "can_read"):
        raise Forbidden()
    access = case_access(session, actor, case_id)
    if access is CaseAccess.NONE:
        raise NotFound("case")
    query = (sa.select(StoredFile).join(CaseAttachment, CaseAttachment.file_id == StoredFile.id)
             .where(CaseAttachment.id == attachment_id, CaseAttachment.case_id == case_id)
             .options(undefer(StoredFile.data)))
    if access is CaseAccess.REPORTER:
        query = query.where(CaseAttachment.added_by_id == actor.id)
    stored = session.scalar(query)
    if stored is None or not stored.size:
        raise NotFound("file")
    return stored


def attachment_json(attachment: CaseAttachment) -> dict[str, Any]:
    return {"id": attachment.id, "case_id": attachment.case_id, "filename": attachment.file.filename,
            "content_type": attachment.file.content_type, "size": attachment.file.size,
            "added_at": attachment.added_at.isoformat(), "added_by": attachment.added_by.username}
