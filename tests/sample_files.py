"""Small, real files of each type an upload accepts: made here, so that the content checks (app/kernel/files.py) read
them as a person's own files would be read."""
from __future__ import annotations

import io
import zipfile

from fpdf import FPDF
from PIL import Image


def pdf_bytes(text: str = "Certificate of completion") -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(0, 10, text)
    return bytes(pdf.output())


def image_bytes(kind: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (29, 112, 184)).save(buffer, format=kind)
    return buffer.getvalue()


def png_with_text(text: str) -> bytes:
    """A PNG carrying `text` in a text chunk, as a phone's photo carries its metadata: its bytes show the text."""
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Comment", text)
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (29, 112, 184)).save(buffer, format="png", pnginfo=info)
    return buffer.getvalue()


DOCUMENT_XML = ('<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
                '<w:body/></w:document>')


def docx_bytes(document_xml: str = DOCUMENT_XML) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml",
                         '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>')
        archive.writestr("word/document.xml", document_xml)
    return buffer.getvalue()


PDF = pdf_bytes()
PNG = image_bytes("png")
JPEG = image_bytes("jpeg")
