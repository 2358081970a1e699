"""Uploaded files, kept in the database (StoredFile). A file's type is told by its content and must agree with its
name, so that a renamed executable or web page is refused however it is called. The first bytes only say what a
file claims to be: the whole file must then be what it claims (a PDF parses, an image decodes, a Word document's
zip and its text part are sound), so that a PDF header followed by a script is refused too. Every kept file is served
only as a download, under its safe name and type (app/views.py `file_download`)."""
from __future__ import annotations

import hashlib
import io
import logging
import zipfile
from collections.abc import Callable, Iterable
from pathlib import PurePath

from defusedxml import ElementTree
from flask import current_app
from PIL import Image
from pypdf import PdfReader
from werkzeug.utils import secure_filename

from app.models import StoredFile

# type: (content type, the file name endings it may have)
FILE_TYPES = {
    "pdf": ("application/pdf", (".pdf",)),
    "png": ("image/png", (".png",)),
    "jpeg": ("image/jpeg", (".jpg", ".jpeg")),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", (".docx",)),
}


def sniff_type(data: bytes) -> str | None:
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


log = logging.getLogger(__name__)
# A Word document's parts may unpack to at most this much: a zip bomb is refused before it is unpacked.
DOCX_MAX_UNPACKED_BYTES = 50 * 1024 * 1024


def _pdf_is_sound(data: bytes) -> None:
    reader = PdfReader(io.BytesIO(data), strict=True)
    if len(reader.pages) < 1:
        raise ValueError("no pages")


def _image_is_sound(kind: str) -> Callable[[bytes], None]:
    def check(data: bytes) -> None:
        with Image.open(io.BytesIO(data)) as image:
            if image.format.lower() != kind:
                raise ValueError(f"decodes as {image.format}")
            image.verify()  # the structure and checksums
        with Image.open(io.BytesIO(data)) as image:
            image.load()  # every pixel: a truncated or padded image fails here
    return check


def _docx_is_sound(data: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(data)) as document:
        if sum(part.file_size for part in document.infolist()) > DOCX_MAX_UNPACKED_BYTES:
            raise ValueError("unpacks too large")
        if document.testzip() is not None:
            raise ValueError("a damaged part")
        ElementTree.fromstring(document.read("word/document.xml"))


CONTENT_CHECKS: dict[str, Callable[[bytes], None]] = {
    "pdf": _pdf_is_sound, "png": _image_is_sound("png"), "jpeg": _image_is_sound("jpeg"), "docx": _docx_is_sound,
}


def is_sound(kind: str, data: bytes) -> bool:
    """Whether the whole file is the `kind` its first bytes claim. Any failure of the parser is a refusal: a file
    that our own parsers cannot read is no file to keep for a safeguarding record."""
    try:
        CONTENT_CHECKS[kind](data)
    except Exception as exc:  # noqa: BLE001 (parsers raise many kinds; each one means "not a sound file")
        log.info("Upload refused: not a sound %s file (%s: %s)", kind, type(exc).__name__, exc)
        return False
    return True


def allowed_types() -> list[str]:
    return [kind for kind in current_app.config["UPLOAD_TYPES"] if kind in FILE_TYPES]


def stored_file(filename: str, data: bytes, uploaded_by_id: int,
                kinds: Iterable[str] | None = None) -> StoredFile:
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
    if not is_sound(kind, data):
        raise ValueError(f"This file could not be read as a {kind.upper()} file: it may be damaged. "
                         "Save or export it again, then attach the new copy.")
    return kept_file(safe_name, content_type, data, uploaded_by_id)


def kept_file(filename: str, content_type: str, data: bytes, uploaded_by_id: int) -> StoredFile:
    """A StoredFile for content its caller has checked itself (such as a CSV file that an import reads)."""
    return StoredFile(filename=filename, content_type=content_type, size=len(data),
                      sha256=hashlib.sha256(data).hexdigest(), data=data, uploaded_by_id=uploaded_by_id)
