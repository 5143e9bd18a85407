"""One publication, many renditions: the PDF and the Markdown of one report, a GOV.UK
attachment and its HTML version, a re-upload under another URL.

Their bytes differ, so the content hash keeps them apart, but their words are nearly the
same. Each document's text gets a MinHash signature over word shingles (kept in SQLite, so
only new documents are hashed); an LSH index finds pairs whose estimated Jaccard similarity
reaches ``THRESHOLD`` without comparing every pair, and connected pairs share one
``documents.publication_id``. Recurrence never counts a point made twice by one publication,
and search shows one hit per publication with its renditions.
"""
from __future__ import annotations

import logging
import re

import numpy as np

log = logging.getLogger(__name__)

NUM_PERM = 128
SCHEME = "affine32"  # stored with the signatures: a later datasketch default must not silently change it
SHINGLE = 4  # words per shingle: long enough that shared boilerplate alone does not match
THRESHOLD = 0.5  # estimated Jaccard: a PDF's headers and hyphenation cost it ~0.2-0.4 of its twin
MIN_SHINGLES = 50  # a title page or a stub says too little to call two documents one
MAX_WORDS = 200_000


def shingles(text: str, k: int = SHINGLE) -> set[bytes]:
    """Word k-grams of the text with markup, punctuation and case removed (a PDF's hyphenated
    line breaks are joined first, so its words match the HTML's)."""
    text = re.sub(r"(\w)-\s*\n\s*(\w)", r"\1\2", text)
    words = re.findall(r"[a-z0-9]+", text.lower())[:MAX_WORDS]
    return {" ".join(words[i:i + k]).encode() for i in range(max(0, len(words) - k + 1))}


def signature(text: str) -> tuple[np.ndarray, int]:
    """(MinHash hash values, number of shingles) of one document's text."""
    from datasketch import MinHash  # 1.3 s of scipy imports: only where documents are hashed

    sh = shingles(text)
    m = MinHash(num_perm=NUM_PERM, scheme=SCHEME)
    if sh:
        m.update_batch(list(sh))
    return m.hashvalues.astype(np.uint32), len(sh)


def link_renditions(store) -> dict[str, str]:
    """Hash documents that have no signature yet, then give every document its publication id
    (the earliest-ingested rendition's document id). Returns {doc_id: publication_id}."""
    from datasketch import MinHash, MinHashLSH

    conn = store.conn
    missing = [r[0] for r in conn.execute(
        "SELECT id FROM documents WHERE id NOT IN (SELECT doc_id FROM doc_signatures)")]
    new = []
    for doc_id in missing:
        text = "\n".join(r[0] for r in conn.execute(
            "SELECT text FROM pages WHERE doc_id = ? ORDER BY page", (doc_id,)))
        values, count = signature(text)
        new.append((doc_id, values.tobytes(), count))
    docs = conn.execute(
        """SELECT d.id, s.signature, s.shingles FROM documents d LEFT JOIN doc_signatures s ON s.doc_id = d.id
           ORDER BY d.ingested_at, d.id""").fetchall()
    fresh = {d: (sig, n) for d, sig, n in new}
    sigs: dict[str, MinHash] = {}
    for doc_id, sig, n in docs:
        sig, n = fresh.get(doc_id, (sig, n))
        if sig is None or n < MIN_SHINGLES:
            continue
        sigs[doc_id] = MinHash(num_perm=NUM_PERM, hashvalues=np.frombuffer(sig, dtype=np.uint32), scheme=SCHEME)
    order = [d for d, _, _ in docs]
    position = {d: k for k, d in enumerate(order)}
    parent = {d: d for d in order}

    def find(d: str) -> str:
        while parent[d] != d:
            parent[d] = parent[parent[d]]
            d = parent[d]
        return d

    lsh = MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM)
    for doc_id in order:  # earliest first, so each publication is named by its first rendition
        m = sigs.get(doc_id)
        if m is None:
            continue
        for other in lsh.query(m):
            if sigs[other].jaccard(m) >= THRESHOLD:
                a, b = find(other), find(doc_id)
                if a != b:
                    parent[max(a, b, key=position.get)] = min(a, b, key=position.get)
        lsh.insert(doc_id, m)
    publication = {d: find(d) for d in order}
    with store.transaction() as tx:
        tx.executemany("INSERT OR REPLACE INTO doc_signatures(doc_id, signature, shingles) VALUES (?,?,?)", new)
        tx.executemany("UPDATE documents SET publication_id = ? WHERE id = ?",
                       [(p, d) for d, p in publication.items()])
    shared = len(publication) - len(set(publication.values()))
    if shared:
        log.info("renditions: %d documents are another rendition of a publication already held", shared)
    return publication


def renditions(store, doc_id: str) -> list[dict]:
    """The other renditions of a document's publication (id, title, format, url)."""
    return [dict(r) for r in store.conn.execute(
        """SELECT o.id, o.title, o.format, o.url, o.published FROM documents d
           JOIN documents o ON o.publication_id = d.publication_id AND o.id != d.id
           WHERE d.id = ? ORDER BY o.ingested_at, o.id""", (doc_id,))]


def one_per_publication(conn, hits: list) -> list:
    """Search hits with each publication's other renditions dropped: the passages of the
    rendition that ranks first stay, and each carries ``renditions`` (the others' id, title,
    format) so a reader can open the format they prefer."""
    if not hits:
        return hits
    ids = sorted({h.doc_id for h in hits})
    marks = ",".join("?" * len(ids))
    pub = {r[0]: r[1] for r in conn.execute(
        f"SELECT id, COALESCE(publication_id, id) FROM documents WHERE id IN ({marks})", ids)}
    shared = {r[0] for r in conn.execute(
            f"""SELECT publication_id FROM documents WHERE publication_id IN
                (SELECT publication_id FROM documents WHERE id IN ({marks}))
                GROUP BY publication_id HAVING COUNT(*) > 1""", ids)}
    if not shared:
        return hits
    others: dict[str, list[dict]] = {}
    for r in conn.execute(
            f"SELECT id, title, format, publication_id FROM documents WHERE publication_id IN "
            f"({','.join('?' * len(shared))}) ORDER BY ingested_at, id", sorted(shared)):
        others.setdefault(r[3], []).append({"doc_id": r[0], "title": r[1], "format": r[2]})
    chosen: dict[str, str] = {}
    out = []
    for h in hits:
        p = pub.get(h.doc_id, h.doc_id)
        if p not in shared:
            out.append(h)
            continue
        if chosen.setdefault(p, h.doc_id) != h.doc_id:
            continue
        h.renditions = [o for o in others[p] if o["doc_id"] != h.doc_id]
        out.append(h)
    return out
