"""Is a fetched body what it claims to be? Plain functions, testable without Scrapy.

A link that says PDF sometimes answers with an HTML error page, a truncated download or an
encrypted file; each would poison text extraction later, so the pipeline refuses them here
and records why.
"""
from __future__ import annotations

import pypdfium2 as pdfium

PDF_TYPE = "application/pdf"
# Servers that do not know better label files this way; the body decides.
GENERIC_TYPES = ("", "application/octet-stream", "binary/octet-stream", "application/download")


def media_type(content_type: str | bytes | None) -> str:
    """``"text/html; charset=utf-8"`` → ``"text/html"``."""
    if isinstance(content_type, bytes):
        content_type = content_type.decode("latin-1")
    return (content_type or "").split(";")[0].strip().lower()


def claims_pdf(url: str, content_type: str | None) -> bool:
    return media_type(content_type) == PDF_TYPE or url.lower().split("?")[0].endswith(".pdf")


def pdf_problem(body: bytes) -> str | None:
    """Why ``body`` is not a usable PDF, or None when it is one."""
    if not body.lstrip()[:5].startswith(b"%PDF"):
        return "not a PDF: body does not start with %PDF"
    if b"%%EOF" not in body[-2048:]:
        return "truncated PDF: no %%EOF marker at the end"
    try:
        document = pdfium.PdfDocument(body)
    except pdfium.PdfiumError as error:
        if "password" in str(error).lower():
            return "encrypted PDF: it needs a password to open"
        return f"unreadable PDF: {error}"
    try:
        if len(document) == 0:
            return "unreadable PDF: it has no pages"
    finally:
        document.close()
    return None


def body_problem(url: str, content_type: str | None, body: bytes) -> str | None:
    """Why a fetched document should not be stored, or None."""
    if not body:
        return "empty body"
    if claims_pdf(url, content_type):
        return pdf_problem(body)
    return None
