"""Uploaded files, kept in the database (StoredFile). A file's type is told by its content and must agree with its
name, so that a renamed executable or web page is refused however it is called."""
from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import PurePath
from typing import Iterable, Optional

from flask import current_app
from werkzeug.utils import secure_filename

from app.models import StoredFile

# type: (content type, the file name endings it may have)
FILE_TYPES = {
    "pdf": ("application/pdf", (".pdf",)),
    "png": ("image/png", (".png",)),
    "jpeg": ("image/jpeg", (".jpg", ".jpeg")),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", (".docx",)),
}


def sniff_type(data: bytes) -> Optional[str]:
    """The file's type from its first bytes (and, for a Word document, the parts inside its zip), or None."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"PK\x03\x04"):
        try:
            names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())  # reads the directory only, never extracts
        except zipfile.BadZipFile:
            return None
        if {"[Content_Types].xml", "word/document.xml"} <= names:
            return "docx"
    return None


def allowed_types() -> list[str]:
    return [kind for kind in current_app.config["UPLOAD_TYPES"] if kind in FILE_TYPES]


def stored_file(filename: str, data: bytes, uploaded_by_id: int,
                kinds: Optional[Iterable[str]] = None) -> StoredFile:
    """A StoredFile for an upload, or ValueError with a message for the user when its size or type is refused.
    `kinds` narrows the configured types for one use (a training certificate is a PDF or an image)."""
    limit = current_app.config["UPLOAD_MAX_BYTES"]
    kinds = [kind for kind in allowed_types() if kinds is None or kind in kinds]
    accepted = ", ".join(kind.upper() for kind in kinds)
    if not data:
        raise ValueError("Choose a file: this one is empty.")
    if len(data) > limit:
        raise ValueError(f"The file is larger than {limit / (1024 * 1024):g} MB: send a smaller one.")
    kind = sniff_type(data)
    safe_name = secure_filename(filename or "") or "file"
    if kind not in kinds:
        raise ValueError(f"Only {accepted} files can be attached.")
    content_type, endings = FILE_TYPES[kind]
    if PurePath(safe_name).suffix.lower() not in endings:
        raise ValueError(f"The file's name does not match its content ({kind.upper()}): rename it {endings[0]}.")
    return kept_file(safe_name, content_type, data, uploaded_by_id)


def kept_file(filename: str, content_type: str, data: bytes, uploaded_by_id: int) -> StoredFile:
    """A StoredFile for content its caller has checked itself (such as a CSV file that an import reads)."""
    return StoredFile(filename=filename, content_type=content_type, size=len(data),
                      sha256=hashlib.sha256(data).hexdigest(), data=data, uploaded_by_id=uploaded_by_id)
