"""Entry point of the extraction layer: ``SourceDocument`` in, ``ExtractedDocument`` out.

    from nlp.text import load_document
    from nlp.extract import extract
    result = extract(load_document("report.pdf"))
    result.to_json()

``sentences(doc)`` gives the same sentence split the extractors use, with pages and offsets
into ``doc.text``, for the knowledge base to reuse.
"""
from __future__ import annotations

import logging
import re
import threading
import time

import nlp.spacy_import  # noqa: F401  (before spaCy: see its docstring)
from spacy.language import Language

from nlp.embed import Embedder, shared_embedder
from nlp.funding import footnote_figures
from nlp.money import clean_subject
from nlp.layout import build_layout
from nlp.cover import document_metadata
from nlp.models import Barrier, ExtractedDocument, Funding, Recommendation, Response, SourceDocument
from nlp.pipeline import (SPANS_BARRIERS, SPANS_FUNDING, SPANS_RECOMMENDATIONS, SPANS_RESPONSES,
                          build_pipeline, run)
from nlp.segment import Sentence, sentence_spans, to_sentence

log = logging.getLogger(__name__)

DIRECTIVE = re.compile(r"\b(?:recommends?|should|must)\b", re.I)
RECOMMENDING = re.compile(r"\b(?:we|committee|inquiry|report)\s+(?:also\s+|therefore\s+|further\s+)?recommends?\b", re.I)


def _stated_at(text: str, start: int, end: int) -> int:
    """Where a recommendation is stated: its opening, unless its first sentence only leads up
    to it ('Given that these principles do not appear to have been applied …, we urge …
    [next page] In relation to the current agreements, we recommend that …'): then the
    recommending sentence, which is what a reader cites."""
    body = text[start:end]
    first = re.search(r"(?<![\d\s])[.!?][\"'”’)\]]*\s", body)  # (not the '.' of its label, '8.19. ')
    if first is None or DIRECTIVE.search(body, 0, first.start()):
        return start
    found = RECOMMENDING.search(body, first.end())
    return start + found.start() if found else start



def _footnote_funding(footnotes: list[tuple[int | None, str]], reader) -> list[Funding]:
    """Funding figures a PDF states only in its footnotes, cited on the footnote's page; their
    subjects read from the parse as the body's are, when the pipeline parses."""
    found = footnote_figures(footnotes, reader.patterns, reader.limits)
    parsed = {}
    if found and reader.use_parser:
        from nlp.parse import funding_subject, parse

        views = list(dict.fromkeys(fig.view for _, _, fig, _ in found))[:reader.limits.max_parsed]
        parsed = dict(zip(views, parse(views)))
    out = []
    for page, sentence, fig, subject in found:
        m = fig.mention
        pdoc = parsed.get(fig.view)
        read = clean_subject(funding_subject(pdoc, m.start, m.end)) if pdoc is not None else None
        out.append(Funding(amount_gbp=m.amount, mention=m.surface, subject=read or subject, period=fig.period,
                           kind=fig.kind, sentence=sentence, page=page, per_unit=m.per_unit))
    return out


__all__ = ["extract", "sentences", "Sentence", "default_pipeline"]

_pipeline: Language | None = None
_lock = threading.Lock()


def default_pipeline() -> Language:
    """The process-wide pipeline (blank English + rules; cheap, but built once)."""
    global _pipeline
    if _pipeline is None:
        from nlp import budget

        with _lock, budget.excluded():  # once per process, not the document's work
            if _pipeline is None:
                _pipeline = build_pipeline()
    return _pipeline


def sentences(doc: SourceDocument) -> list[Sentence]:
    """Sentences of ``doc``: clean text, 1-based page (None if unpaged), offsets into doc.text."""
    layout = build_layout(doc)
    return [to_sentence(layout, s) for s in sentence_spans(layout)]


def extract(doc: SourceDocument, *, embedder: Embedder | None = None,
            nlp: Language | None = None) -> ExtractedDocument:
    """Barriers, recommendations, funding figures and responses of one document."""
    started = time.perf_counter()
    layout = build_layout(doc)
    nlp = nlp or default_pipeline()
    if "refrain_barriers" in nlp.pipe_names and embedder is None:
        embedder = shared_embedder()
    sdoc = run(nlp, layout, embedder)
    meta = document_metadata(doc)
    out = ExtractedDocument(title=meta.get("title"), published=meta.get("published"), pages=len(doc.pages),
                            publisher=meta.get("publisher"), identifiers=meta.get("identifiers", {}),
                            doc_type=meta.get("doc_type"))

    def page(offset: int) -> int | None:
        return layout.page_at(offset) if doc.paged else None

    def main_page(start: int, end: int) -> int | None:
        return layout.main_page(start, end) if doc.paged else None

    out.notes.extend(sdoc.user_data.get("refrain_notes", []))
    text = layout.text
    for span in sdoc.spans.get(SPANS_FUNDING, []):
        rec = span._.refrain_funding
        out.funding.append(Funding(
            amount_gbp=rec.amount_gbp, mention=rec.mention, subject=rec.subject, period=rec.period,
            kind=rec.kind, sentence=text[rec.sentence_start:rec.sentence_end], page=page(span.start_char),
            per_unit=rec.per_unit,
        ))
    if layout.footnotes and "refrain_funding" in nlp.pipe_names:
        out.funding.extend(_footnote_funding(layout.footnotes, nlp.get_pipe("refrain_funding")))
    for span in sdoc.spans.get(SPANS_RECOMMENDATIONS, []):
        cand = span._.refrain_recommendation
        out.recommendations.append(Recommendation(
            text=cand.text, actor=cand.actor, deadline=cand.deadline, label=cand.label,
            page=page(_stated_at(text, cand.start, cand.end)),
        ))
    for span in sdoc.spans.get(SPANS_RESPONSES, []):
        cand = span._.refrain_response
        out.responses.append(Response(
            responds_to=cand.responds_to, stance=cand.stance, text=cand.text,
            target_date=cand.target_date, page=page(cand.start), responder=cand.responder,
            stance_evidence=cand.stance_evidence, implementation=cand.implementation, quoted=cand.quoted,
        ))
    for span in sdoc.spans.get(SPANS_BARRIERS, []):
        rec = span._.refrain_barrier
        out.barriers.append(Barrier(theme=rec.theme, sentence=rec.text or span.text,
                                    page=main_page(span.start_char, span.end_char),
                                    score=rec.score, themes=list(rec.themes)))
    log.info("extracted %s in %.2fs: %d funding, %d recommendations, %d responses, %d barriers",
             doc.path, time.perf_counter() - started, len(out.funding), len(out.recommendations),
             len(out.responses), len(out.barriers))
    return out
