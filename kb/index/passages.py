"""Cut page text into search passages of at most ~200 words, never across a page.

The embedding model truncates at 256 word pieces, so a longer passage would be searched by
its first half only; a page boundary is kept so every hit cites one page.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

MAX_WORDS = 180
MIN_WORDS = 25


@dataclass
class Passage:
    id: str
    seq: int
    page: int | None
    text: str
    themes: str = ""  # '|theme|theme|' of the barriers stated in it, for the theme filter


def passage_id(doc_sha: str, seq: int, text: str) -> str:
    return hashlib.sha256(f"{doc_sha}:{seq}:{text}".encode("utf-8")).hexdigest()[:32]


def split_passages(doc_sha: str, pages: list[str], paged: bool) -> list[Passage]:
    out: list[Passage] = []
    for index, page_text in enumerate(pages):
        page = index + 1 if paged else None
        for chunk in _chunks(page_text):
            seq = len(out)
            out.append(Passage(passage_id(doc_sha, seq, chunk), seq, page, chunk))
    return out


def _chunks(text: str) -> list[str]:
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text)]
    paragraphs = [p for p in paragraphs if p]
    pieces: list[str] = []
    for para in paragraphs:
        words = para.split()
        if len(words) <= MAX_WORDS:
            pieces.append(para)
            continue
        # An over-long paragraph is cut at sentence ends, falling back to a hard word cut.
        sentence_buf: list[str] = []
        for sentence in re.split(r"(?<=[.!?])\s+", para):
            s_words = sentence.split()
            while len(s_words) > MAX_WORDS:
                pieces.append(" ".join(s_words[:MAX_WORDS]))
                s_words = s_words[MAX_WORDS:]
            if len(sentence_buf) + len(s_words) > MAX_WORDS:
                pieces.append(" ".join(sentence_buf))
                sentence_buf = []
            sentence_buf.extend(s_words)
        if sentence_buf:
            pieces.append(" ".join(sentence_buf))
    # Merge short neighbours (headings, list items) so passages carry enough context.
    merged: list[str] = []
    for piece in pieces:
        if merged and (len(merged[-1].split()) < MIN_WORDS or len(piece.split()) < MIN_WORDS) \
                and len(merged[-1].split()) + len(piece.split()) <= MAX_WORDS:
            merged[-1] = merged[-1] + "\n" + piece
        else:
            merged.append(piece)
    return merged
