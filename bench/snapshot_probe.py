"""A million-passage search snapshot made straight from arrays, and the cost of each part of a query.

``bench/run.py --large`` builds a whole synthetic knowledge base first (SQLite, FTS5, the
embedding cache: ~25 minutes on the 2-core machine) before it times anything. To iterate on
the snapshot's search code this probe makes the same data without SQLite: the same recipe as
``bench/synth.py`` (each passage 4–8 real corpus sentences; its vector their normalised mean
plus noise; a document per 100 passages with a source, type and year; one passage in seven
with themes), its postings the sum of its sentences' FTS5 tokens (the index's own tokenizer),
written as one segment by ``kb/store/snapshot_files.py`` and memory-mapped as a search would.

It then times, per query and in CPU time (``time.process_time``: other developers load the
cores) as well as wall time: BM25 over the postings, the dense ranking, the match check
(``relevant_ids``) and fusion — everything a hybrid search does except embedding the query
(timed apart) and reading the final ten passages from SQLite. It also reports the dense
ranking's recall@10 against the exact int8 ranking.

    python -m bench.snapshot_probe --n 1000000 --out /tmp/probe    # build (once) and time
    python -m bench.snapshot_probe --n 1000000 --out /tmp/probe --reuse
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sqlite3
import time
from pathlib import Path

import numpy as np

from bench.search_speed import FILTERS, queries
from bench.synth import DOC_TYPES, PASSAGES_PER_DOC
from kb.vocabulary import SOURCES, THEMES

BASE_SENTENCES = 2000
CHUNK = 100_000


def base(out: Path) -> tuple[list[str], np.ndarray]:
    """The bench's real corpus sentences and their vectors (embedded once, kept in ``out``)."""
    from bench import corpus

    cache = out / "base.npz"
    if cache.exists():
        data = np.load(cache, allow_pickle=False)
        return [str(s) for s in data["texts"]], data["vectors"]
    from nlp.embed import Embedder

    texts = corpus.sample_sentences(BASE_SENTENCES)
    vectors = Embedder().encode(texts).astype(np.float32)
    out.mkdir(parents=True, exist_ok=True)
    np.savez(cache, texts=np.array(texts), vectors=vectors)
    return texts, vectors


def sentence_terms(texts: list[str]):
    """(sorted token bytes, sentences × tokens count matrix) by FTS5's own tokenizer."""
    from scipy import sparse

    from kb.store.snapshot import TOKENIZER

    conn = sqlite3.connect(":memory:")
    conn.execute(f"CREATE VIRTUAL TABLE t USING fts5(x, tokenize='{TOKENIZER}')")
    conn.executemany("INSERT INTO t(rowid, x) VALUES (?, ?)", enumerate(texts))
    conn.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, instance)")
    rows = conn.execute("SELECT term, doc FROM v").fetchall()
    terms = sorted({r[0].encode("utf-8") for r in rows})
    index = {t: i for i, t in enumerate(terms)}
    r = np.array([d for _, d in rows], dtype=np.int64)
    c = np.array([index[t.encode("utf-8")] for t, _ in rows], dtype=np.int64)
    return terms, sparse.csr_matrix((np.ones(len(r), dtype=np.int32), (r, c)), shape=(len(texts), len(terms)))


def build(n: int, out: Path, seed: int = 7) -> float:
    """Write an ``n``-passage snapshot to ``out/search-snapshot``; returns the seconds taken
    from the sentence data on (what a real build spends reading SQLite is not included)."""
    from scipy import sparse

    from kb.store.snapshot import Codes, Segment, quantise, sign_bits
    from kb.store import snapshot_files as sf

    texts, svecs = base(out)
    terms, st = sentence_terms(texts)
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    sizes = rng.integers(4, 9, size=n)
    picks = rng.integers(0, len(texts), size=int(sizes.sum()))
    rows = np.repeat(np.arange(n), sizes)
    incidence = sparse.csr_matrix((np.ones(len(picks), dtype=np.int32), (rows, picks)), shape=(n, len(texts)))
    counts = (incidence @ st).tocsc()
    counts.sort_indices()
    q_parts, s_parts = [], []
    mean = sparse.diags(1.0 / sizes.astype(np.float32)) @ incidence.astype(np.float32)
    for a in range(0, n, CHUNK):
        block = mean[a:a + CHUNK] @ svecs + rng.normal(0, 0.02, size=(min(CHUNK, n - a), svecs.shape[1]))
        block = (block / np.linalg.norm(block, axis=1, keepdims=True)).astype(np.float32)
        q, s = quantise(block)
        q_parts.append(q)
        s_parts.append(s)
    vectors, scale = np.concatenate(q_parts), np.concatenate(s_parts)
    del q_parts, s_parts
    codes = Codes()
    n_docs = max(1, n // PASSAGES_PER_DOC)
    doc_year = rng.integers(2008, 2026, size=n_docs).astype(np.int32)
    doc = np.arange(n) % n_docs
    source_codes = np.array([codes.code(codes.sources, s) for s in SOURCES], dtype=np.int32)
    type_codes = np.array([codes.code(codes.doc_types, t) for t in DOC_TYPES], dtype=np.int32)
    themes = np.zeros(n, dtype=np.int64)
    tagged = np.flatnonzero(rng.random(n) < 0.15)
    for i in tagged:
        bits = codes.bits("|" + "|".join(sorted(set(rng.choice(THEMES, size=int(rng.integers(1, 3)))))) + "|")
        themes[i] = bits
    term_text = np.frombuffer(b"".join(terms), dtype=np.uint8).copy()
    term_off = np.r_[0, np.cumsum([len(t) for t in terms])].astype(np.int64)
    term_post = counts.indptr.astype(np.int64)
    post_pos, post_tf = counts.indices.astype(np.int32), np.minimum(counts.data, 65535).astype(np.uint16)
    doclen = np.bincount(post_pos, weights=post_tf, minlength=n).astype(np.uint32)
    del counts
    center, bits = sign_bits(vectors, scale)
    ids = np.array([hashlib.sha256(f"synthetic:{i}".encode()).hexdigest()[:32].encode() for i in range(n)],
                   dtype="S32")
    segment = Segment(rowids=np.arange(1, n + 1, dtype=np.int64), ids=ids, doclen=doclen,
                      theme_len=np.where(themes > 0, 20, 0).astype(np.uint16),
                      source=source_codes[doc % len(SOURCES)], doc_type=type_codes[doc % len(DOC_TYPES)],
                      year=doc_year[doc], themes=themes, vectors=vectors, scale=scale, center=center, bits=bits,
                      term_text=term_text, term_off=term_off, term_post=term_post, post_pos=post_pos,
                      post_tf=post_tf)
    folder = out / "search-snapshot"
    folder.mkdir(parents=True, exist_ok=True)
    sf._write_segment(folder, "seg-1", segment)
    manifest = {"format": sf.FORMAT, "dim": 384, "variant": "", "fingerprint": ["probe"], "segments": ["seg-1"],
                "sources": codes.sources, "doc_types": codes.doc_types, "theme_bits": codes.theme_bits,
                "generation": 1, "full_builds": 1, "updates": 0}
    sf._commit(folder, manifest, np.zeros(n, dtype=bool), {}, started)
    return time.perf_counter() - started


class _Probe:
    """What ``relevant_ids`` asks of a knowledge base, over the probe's snapshot."""

    def __init__(self, snap, vectors: dict):
        self.snap, self.vectors = snap, vectors
        self.store = type("Store", (), {"conn": None})()

    def snapshot(self):
        return self.snap

    def embed_query(self, text: str):
        return self.vectors[text]


def probe(out: Path, rounds: int = 2) -> dict:
    from kb.search.engine import (DENSE_CANDIDATES, KEYWORD_CANDIDATES, Filters, rrf,
                                  snapshot_keyword_ranking)
    from kb.search.query import parse_query
    from kb.search.relevance import relevant_ids
    from kb.store import snapshot_files as sf
    from nlp.query_encoder import query_encoder

    snap = sf.load(out / "search-snapshot")
    # No SQLite here to answer a multi-token phrase ('Covid-19'): its words, apart.
    qs = [q.replace("-", " ") for q in queries()]
    encoder = query_encoder()
    encoder.encode_one("warm up")
    enc_cpu = []
    vectors = {}
    for q in qs:
        text = parse_query(q).semantic_text()
        c = time.process_time()
        vectors[text] = encoder.encode_one(text)
        enc_cpu.append(time.process_time() - c)
    kb = _Probe(snap, vectors)
    snap.pos_of  # built once per snapshot by a server
    parts = {"keyword": [], "dense": [], "relevant": [], "fuse": []}
    totals = {"plain": ([], []), "filtered": ([], [])}
    recall = []
    for r in range(rounds):
        for i, q in enumerate(qs):
            for kind, filters in (("plain", Filters()), ("filtered", Filters(**FILTERS[i % len(FILTERS)]))):
                parsed = parse_query(q)
                vec = vectors[parsed.semantic_text()]
                w0, c0 = time.perf_counter(), time.process_time()
                kw = snapshot_keyword_ranking(snap, parsed, filters, KEYWORD_CANDIDATES, None)
                c1 = time.process_time()
                keep = snap.mask(filters) if filters.active else np.ones(len(snap), dtype=bool)
                dense = snap.nearest(vec, keep, DENSE_CANDIDATES)
                c2 = time.process_time()
                fused = rrf([kw, dense])
                c3 = time.process_time()
                rel = relevant_ids(kb, parsed, list(fused), "hybrid")
                c4 = time.process_time()
                sorted(((p, s) for p, s in fused.items() if p in rel), key=lambda kv: (-kv[1], kv[0]))[:20]
                w1, c5 = time.perf_counter(), time.process_time()
                totals[kind][0].append(w1 - w0)
                totals[kind][1].append(c5 - c0)
                parts["keyword"].append(c1 - c0)
                parts["dense"].append(c2 - c1)
                parts["fuse"].append(c3 - c2 + c5 - c4)
                parts["relevant"].append(c4 - c3)
                if r == 0:
                    rows = np.flatnonzero(keep & snap.has_vector)
                    exact = snap._best(rows, snap.similarities(vec)[rows], 10)
                    recall.append(len(set(exact) & set(dense[:10])) / max(1, len(exact)))

    def pct(xs):
        ms = np.array(xs) * 1000
        return {"p50": round(float(np.percentile(ms, 50)), 1), "p95": round(float(np.percentile(ms, 95)), 1)}

    result = {"passages": len(snap), "queries": len(qs) * rounds, "encode_cpu": pct(enc_cpu),
              "parts_cpu": {k: pct(v) for k, v in parts.items()},
              "dense_recall_at_10": round(float(np.mean(recall)), 4)}
    for kind, (wall, cpu) in totals.items():
        result[kind] = {"wall": pct(wall), "cpu": pct(cpu)}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--reuse", action="store_true", help="time the snapshot already in --out")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    report = {}
    if not args.reuse:
        w, c = time.perf_counter(), time.process_time()
        build(args.n, args.out)
        report["build"] = {"wall_s": round(time.perf_counter() - w, 1), "cpu_s": round(time.process_time() - c, 1)}
    report.update(probe(args.out, args.rounds))
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
