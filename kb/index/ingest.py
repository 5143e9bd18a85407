"""Ingest files into the knowledge base: load → extract → passages → SQLite → Chroma.

Keyed by the sha256 of the bytes, so ingesting the same file twice changes nothing; a new
version of a document (same URL, new bytes) replaces the old one. A file that fails is
recorded with its reason and the run goes on.

Crash safety (a ``kill -9`` at any instant must leave a state the next run converges from):

1. everything slow (reading, extraction, embedding into the SQLite cache) happens first and
   writes nothing a reader can see;
2. one SQLite transaction then writes the document with all its rows *and* notes the work it
   owes: ``vectors_pending`` (its vectors may not be in Chroma yet), ``vectors_stale`` (the
   vectors of a replaced version, to delete) and the ``links_stale`` flag (recurrence groups
   and response links need redoing). Before the commit nothing of it is visible; after, all;
3. Chroma writes use the rows' content-derived ids, so repeating them is harmless; the notes
   are cleared only after they succeed;
4. every run first settles notes left by a killed run (``settle``), and ``kb doctor`` does too.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import stat
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable

from kb.store.knowledge import KnowledgeBase
from crawler.rawstore import RawStore
from crawler.records import SIDECAR_SUFFIX, CrawledDocument, read_sidecar as crawled_sidecar
from kb.index.passages import Passage, split_passages
from kb.index.projection import write_documents
from kb.store.vectors import FINDINGS, PASSAGES, RECOMMENDATIONS
from kb.vocabulary import LOCAL_SOURCE
from nlp import budget
from nlp.budget import DocumentTimeout
from nlp.models import ExtractedDocument, SourceDocument
from nlp.page_labels import printed_labels
from nlp.text import DocumentError, load_document

log = logging.getLogger(__name__)

SUFFIXES = {".pdf", ".html", ".htm", ".md", ".markdown", ".txt", ".json"}
SIDECAR = SIDECAR_SUFFIX
LINKS_STALE = "links_stale"  # meta flag: response links and recurrence groups need redoing


@dataclass
class IngestResult:
    path: str
    status: str  # new | updated | unchanged | failed
    doc_id: str | None = None
    title: str | None = None
    reason: str | None = None
    capped: dict | None = None  # per-document caps hit: kind -> items left out (kb.config)

    def to_json(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v is not None}


def now_iso() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def expand_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Files as given, and supported files inside folders (sidecars skipped), sorted.

    Entries of a folder with a supported name that are not regular files (a FIFO, a broken
    link) are kept, so that they are reported as failures instead of silently skipped."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(
                f for f in p.rglob("*")
                if not f.is_dir() and f.suffix.lower() in SUFFIXES and not f.name.endswith(SIDECAR)
                and not f.name.endswith(".tmp")
            ))
        else:
            out.append(p)
    return out


def read_sidecar(path: Path) -> CrawledDocument:
    """Crawl metadata stored beside a raw file (``<sha>.meta.json``); an empty record if there
    is none or it cannot be read (a sidecar that is not a JSON object fails the file)."""
    try:
        return crawled_sidecar(path) or CrawledDocument()
    except ValueError as exc:
        log.warning("ignoring %s", exc)
        return CrawledDocument()


def summarise(results: Iterable[IngestResult]) -> dict[str, int]:
    """How many files were new, updated, unchanged and failed."""
    counts = {s: 0 for s in ("new", "updated", "unchanged", "failed")}
    for r in results:
        counts[r.status] += 1
    return counts


def ingest_crawled(kbase: KnowledgeBase, paths: Iterable[str | Path],
                   progress: Callable[[IngestResult, int, int], None] | None = None) -> dict:
    """Ingest what a crawl stored (the sidecar beside each raw file carries its metadata):
    the ``ingest`` summary and the ``failures`` of a crawl or demo report."""
    results = ingest_paths(kbase, sorted(set(paths)), progress=progress)
    return {"ingest": summarise(results), "failures": [r.to_json() for r in results if r.status == "failed"]}


def ingest_paths(kbase: KnowledgeBase, paths: Iterable[str | Path],
                 progress: Callable[[IngestResult, int, int], None] | None = None,
                 regroup: bool = True) -> list[IngestResult]:
    files = expand_paths(paths)
    settle(kbase, relink=False)
    results = []
    for n, path in enumerate(files, 1):
        result = ingest_file(kbase, path)
        results.append(result)
        if progress:
            progress(result, n, len(files))
    if regroup and kbase.store.flag(LINKS_STALE):
        derive_links(kbase)
    kbase.refresh_snapshot()  # new passages join the search snapshot (no rebuild); a no-op when current
    return results


def settle(kbase: KnowledgeBase, relink: bool = True) -> dict:
    """Finish the work a killed run left noted in SQLite: write the vectors of documents
    still ``vectors_pending``, delete ``vectors_stale`` ones, and (with ``relink``) redo the
    links if ``links_stale``. Idempotent, and cheap when nothing is owed."""
    store = kbase.store
    pending = store.pending_documents()
    stale = store.stale_vectors()
    for name, ids in stale.items():
        kbase.vectors.delete(name, ids)
    if pending:
        log.info("settling %d document(s) whose vectors a previous run did not finish", len(pending))
        write_documents(kbase, pending)
    if pending or stale:
        with store.transaction() as conn:
            conn.executemany("DELETE FROM vectors_pending WHERE doc_id = ?", [(d,) for d in pending])
            conn.executemany("DELETE FROM vectors_stale WHERE collection = ? AND vector_id = ?",
                             [(n, i) for n, ids in stale.items() for i in ids])
    relinked = bool(relink and store.flag(LINKS_STALE))
    if relinked:
        derive_links(kbase)
    return {"documents": len(pending), "stale_vectors": sum(map(len, stale.values())), "relinked": relinked}


def derive_links(kbase: KnowledgeBase) -> None:
    """What depends on the whole knowledge base, redone after documents change: government
    responses linked to recommendations, and recurrence groups."""
    from kb.analysis.lifecycle import link_responses
    from kb.analysis.recurrence import rebuild_groups

    link_responses(kbase)
    rebuild_groups(kbase)
    kbase.store.set_flag(LINKS_STALE, None)  # only once both are done: a kill before re-does them


def ingest_file(kbase: KnowledgeBase, path: Path, meta: CrawledDocument | None = None) -> IngestResult:
    """Ingest one file; any failure, expected or not, becomes a recorded one-line reason."""
    try:
        return _ingest_file(kbase, path, meta)
    except DocumentError as exc:
        return _fail(kbase, path, str(exc))
    except DocumentTimeout as exc:  # a BaseException: nothing of the document was stored
        return _fail(kbase, path, str(exc))
    except RecursionError:
        return _fail(kbase, path, "document too deeply nested to process")
    except MemoryError:
        return _fail(kbase, path, "out of memory while processing the document")
    except Exception as exc:  # a bug or a library's surprise must not stop the run
        log.debug("unexpected error on %s", path, exc_info=True)
        return _fail(kbase, path, f"unexpected error: {type(exc).__name__}: {_one_line(str(exc))}")


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def check_file(path: Path, settings) -> int:
    """The file's size, or a ``DocumentError`` saying why it will not be read: not a regular
    file (a FIFO would block a read forever), a broken link, unreadable, or over the caps."""
    try:
        st = path.stat()
    except FileNotFoundError:
        kind = "broken symbolic link" if path.is_symlink() else "no such file"
        raise DocumentError(f"cannot read file: {kind}") from None
    except OSError as exc:
        raise DocumentError(f"cannot read file: {exc.strerror or exc}") from None
    if not stat.S_ISREG(st.st_mode):
        kind = "a FIFO" if stat.S_ISFIFO(st.st_mode) else "a directory" if stat.S_ISDIR(st.st_mode) else "special"
        raise DocumentError(f"not a regular file ({kind})")
    if not os.access(path, os.R_OK):
        raise DocumentError("cannot read file: permission denied")
    if st.st_size > settings.max_file_bytes:
        raise DocumentError(f"file too large ({_mb(st.st_size)} > {_mb(settings.max_file_bytes)}, "
                            f"the KB_MAX_FILE_MB limit)")
    if path.suffix.lower() != ".pdf" and st.st_size > settings.max_text_bytes:
        raise DocumentError(f"text file too large ({_mb(st.st_size)} > {_mb(settings.max_text_bytes)}, "
                            f"the KB_MAX_TEXT_MB limit)")
    return st.st_size


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def _ingest_file(kbase: KnowledgeBase, path: Path, meta: CrawledDocument | None) -> IngestResult:
    check_file(path, kbase.settings)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DocumentError(f"cannot read file: {exc.strerror or exc}") from None
    sha = hashlib.sha256(data).hexdigest()
    existing = kbase.store.document_by_sha(sha)
    if existing:
        return IngestResult(str(path), "unchanged", existing.id, existing.title)
    meta = meta or read_sidecar(path)
    from nlp.extract import extract

    # Everything slow runs inside the document's budget (time and caps, nlp.budget) and
    # stores nothing; past the budget the document fails with the stage it was in.
    with budget.document(kbase.settings.limits()) as bud:
        source_doc = load_document(path)
        bud.check("extraction")
        # Through the cache: the barrier sentences embedded here are stored with the document.
        extracted = extract(source_doc, embedder=kbase.cached_embedder)
        bud.check("passages")
        passages = bud.cap("passages", split_passages(sha, source_doc.pages, source_doc.paged))
        _tag_themes(passages, extracted)
        bud.check("embedding")
        # Embed before the transaction (slow, and it fills the cache the Chroma write reads from).
        kbase.embed([p.text for p in passages] + [r.text for r in extracted.recommendations]
                    + [b.sentence for b in extracted.barriers])
    if not meta.path:
        meta = meta.replace(path=str(keep_raw_copy(kbase.settings.raw_dir, path, sha, data)))
    result = _store(kbase, path, sha, meta, source_doc, extracted, passages)
    if bud.capped:
        result.capped = dict(bud.capped)
        log.warning("%s: per-document caps hit (items left out): %s", path,
                    ", ".join(f"{k} {v}" for k, v in bud.capped.items()))
    return result


def keep_raw_copy(raw_dir: Path, path: Path, sha: str, data: bytes) -> Path:
    """Every ingested file is kept under ``raw/`` by hash, as crawled ones already are (the
    same ``RawStore``), so the knowledge base holds its own sources (the web app serves them;
    nothing points outside)."""
    return RawStore(raw_dir).keep(data, path.suffix.lower() if path.suffix.lower() in SUFFIXES else "", sha)


def _fail(kbase: KnowledgeBase, path: Path, reason: str) -> IngestResult:
    log.warning("%s: %s", path, reason)
    try:
        kbase.store.record_failure(str(path), reason, now_iso())
    except Exception as exc:  # disk full: the failure is still reported on stderr and in --json
        log.warning("%s: could not record the failure in kb failures: %s", path, exc)
    return IngestResult(str(path), "failed", reason=reason)


def _store(kbase: KnowledgeBase, path: Path, sha: str, meta: CrawledDocument, src: SourceDocument,
           ex: ExtractedDocument, passages: list[Passage]) -> IngestResult:
    """Commit the document and its extractions to SQLite with notes of what Chroma is owed,
    then write Chroma from the committed rows and drop the notes (see the module docstring).
    The passages come split, tagged and embedded (their vectors cached) by the caller."""
    store = kbase.store
    doc_id = sha[:16]
    url = meta.url or path.resolve().as_uri()
    title = meta.title or ex.title or path.stem  # ex.title is src.title when that reads as a title
    published = meta.published or ex.published or src.published
    rec_ids = [hashlib.sha256(f"{sha}:rec:{i}:{r.text}".encode()).hexdigest()[:32]
               for i, r in enumerate(ex.recommendations)]
    finding_ids = [hashlib.sha256(f"{sha}:finding:{i}:{b.sentence}".encode()).hexdigest()[:32]
                   for i, b in enumerate(ex.barriers)]
    replaced = [d for d in store.documents_by_url(url) if d.sha256 != sha]
    stale: list[tuple[str, str]] = []  # (collection, vector id) of the documents this one replaces
    with store.transaction() as conn:
        if store.document_by_sha(sha):  # another process stored it while we were extracting
            existing = store.document_by_sha(sha)
            return IngestResult(str(path), "unchanged", existing.id, existing.title)
        for old in replaced:
            stale += [(RECOMMENDATIONS, r[0]) for r in conn.execute(
                "SELECT id FROM recommendations WHERE doc_id = ?", (old.id,))]
            stale += [(FINDINGS, r[0]) for r in conn.execute(
                "SELECT vector_id FROM barriers WHERE doc_id = ? AND vector_id IS NOT NULL", (old.id,))]
            stale += [(PASSAGES, i) for i in store.delete_document(old.id)]
        conn.execute(
            """INSERT INTO documents(id, sha256, url, source, title, published, year, doc_type, publisher,
                   format, pages, identifiers, referrer, content_type, raw_path, ingested_at)
               VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)""",
            (doc_id, sha, url, meta.source or LOCAL_SOURCE, title, published, _year(published),
             meta.doc_type or src.meta.get("document_type") or ex.doc_type,
             meta.publisher or ", ".join(src.meta.get("organisations") or []) or ex.publisher,
             src.format, len(src.pages) if src.paged else None,
             json.dumps({**ex.identifiers, **{k: v for k, v in (meta.identifiers or {}).items() if v}}),
             meta.referrer, meta.content_type, meta.path or str(path.resolve()), now_iso()),
        )
        _insert_extractions(conn, doc_id, src, passages, ex, rec_ids, finding_ids)
        # The notes of what this document owes Chroma and the links, committed with it.
        conn.executemany("INSERT OR IGNORE INTO vectors_stale(collection, vector_id) VALUES (?, ?)", stale)
        conn.execute("INSERT OR IGNORE INTO vectors_pending(doc_id) VALUES (?)", (doc_id,))
        store.set_flag(LINKS_STALE, "1")

    status = "updated" if replaced else "new"
    try:
        for name in (PASSAGES, RECOMMENDATIONS, FINDINGS):
            if ids := [i for n, i in stale if n == name]:
                kbase.vectors.delete(name, ids)
        write_documents(kbase, [doc_id])  # from the rows just committed; their vectors are cached
        with store.transaction() as conn:  # Chroma has it all now: the notes can go
            conn.execute("DELETE FROM vectors_pending WHERE doc_id = ?", (doc_id,))
            conn.executemany("DELETE FROM vectors_stale WHERE collection = ? AND vector_id = ?", stale)
    except Exception as exc:  # e.g. disk full: the document IS stored (committed above), so it is
        # never reported failed; what it owes Chroma stays noted and the next run settles it.
        reason = (f"stored, but its vectors are still owed ({type(exc).__name__}: {_one_line(str(exc), 200)}); "
                  "the next `kb ingest` or `kb doctor` writes them")
        log.warning("%s: %s", path, reason)
        return IngestResult(str(path), status, doc_id, title, reason=reason)
    log.info("%s %s: %s (%d passages, %d recommendations, %d barriers, %d funding)", status, doc_id, title,
             len(passages), len(ex.recommendations), len(ex.barriers), len(ex.funding))
    for note in getattr(ex, "notes", []):  # a limit hit (e.g. the funding cap): stored, but say so
        log.warning("%s: %s", path, note)
    return IngestResult(str(path), status, doc_id, title)


def _insert_extractions(conn, doc_id: str, src: SourceDocument, passages: list[Passage], ex: ExtractedDocument,
                        rec_ids: list[str], finding_ids: list[str]) -> None:
    """The document's pages, passages and every extracted item, inside the caller's transaction."""
    labels = printed_labels(src.pages, src.meta.get("page_labels")) if src.paged else [None] * len(src.pages)
    conn.executemany("INSERT INTO pages(doc_id, page, text, label) VALUES (?,?,?,?)",
                     [(doc_id, i + 1, t, label) for i, (t, label) in enumerate(zip(src.pages, labels))])
    conn.executemany("INSERT INTO passages(id, doc_id, seq, page, text, themes) VALUES (?,?,?,?,?,?)",
                     [(p.id, doc_id, p.seq, p.page, p.text, p.themes) for p in passages])
    conn.executemany(
        "INSERT INTO barriers(doc_id, theme, themes, sentence, page, score, vector_id) VALUES (?,?,?,?,?,?,?)",
        [(doc_id, b.theme, json.dumps(b.themes or [b.theme]), b.sentence, b.page, b.score, fid)
         for fid, b in zip(finding_ids, ex.barriers)])
    conn.executemany(
        "INSERT INTO recommendations(id, doc_id, seq, label, text, actor, deadline, page) VALUES (?,?,?,?,?,?,?,?)",
        [(rid, doc_id, i, r.label, r.text, r.actor, r.deadline, r.page)
         for i, (rid, r) in enumerate(zip(rec_ids, ex.recommendations))])
    conn.executemany(
        """INSERT INTO responses(doc_id, responds_to, stance, text, target_date, page, responder,
               stance_evidence, implementation, quoted) VALUES (?,?,?,?,?,?,?,?,?,?)""",
        [(doc_id, r.responds_to, r.stance, r.text, r.target_date, r.page, r.responder, r.stance_evidence,
          r.implementation, r.quoted) for r in ex.responses])
    conn.executemany(
        """INSERT INTO funding(doc_id, amount_gbp, mention, subject, period, kind, sentence, page, per_unit)
           VALUES (?,?,?,?,?,?,?,?,?)""",
        [(doc_id, f.amount_gbp, f.mention, f.subject, f.period, f.kind, f.sentence, f.page, int(f.per_unit))
         for f in ex.funding])


def _year(published: str | None) -> int | None:
    m = re.match(r"^(\d{4})", published or "")
    return int(m.group(1)) if m else None


def _norm(text: str) -> str:
    return " ".join(text.split()).lower()


def _tag_themes(passages: list[Passage], ex: ExtractedDocument) -> None:
    """Mark each passage with the barrier themes stated in it, for the search theme filter.

    Linear in the document, not barriers x passages: the passages' texts are joined once and
    each barrier's opening is looked for from where the previous one was found (barriers come
    in document order), then, failing that, from the start of its page (or the document). A
    sentence over a page break is cited on the page holding most of it, so its opening may be
    on the page before."""
    import bisect

    normed = [_norm(p.text) for p in passages]
    starts: list[int] = []
    offset = 0
    for text in normed:
        starts.append(offset)
        offset += len(text) + 1
    joined = "\x00".join(normed)  # a probe never spans two passages
    page_start: dict[int | None, int] = {}
    page_end: dict[int | None, int] = {}
    for i, p in enumerate(passages):
        page_start.setdefault(p.page, starts[i])
        page_end[p.page] = starts[i] + len(normed[i])
    tags: dict[str, set[str]] = {}
    last = 0
    for barrier in ex.barriers:
        probe = _norm(barrier.sentence)[:80]
        lo, hi = (0, len(joined)) if barrier.page is None else \
            (page_start.get(barrier.page - 1, page_start.get(barrier.page, 0)), page_end.get(barrier.page, -1))
        if not probe or hi < lo:
            continue
        at = joined.find(probe, max(lo, last), hi)
        if at < 0 and last > lo:
            at = joined.find(probe, lo, hi)
        if at < 0:
            continue
        last = at
        p = passages[bisect.bisect_right(starts, at) - 1]
        tags.setdefault(p.id, set()).update(barrier.themes or [barrier.theme])
    for p in passages:
        p.themes = "|" + "|".join(sorted(tags[p.id])) + "|" if p.id in tags else ""
