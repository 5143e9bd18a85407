"""Build the pool of candidate sentences that labellers mark barrier / not barrier.

    python -m bench.barrier_pool ../shared/corpus samples --out nlp/data/barrier_training/pool

Sentences come from the project's own loader, layout and sentence split, with the same
blocks skipped as at run time (bibliographies, short unlabelled headings), so what is
labelled looks like what the classifier sees. The pool is stratified so barriers are not
rare: sentences the cue rules flag, sentences with theme vocabulary but no cue, random
prose, and some junk (tables, garbled columns) for the quality label. Documents and pages
measured in dev gold are excluded. Fixed seed: the same inputs give the same shards.

A later round draws more with ``--exclude DIR --first-shard N``: sentences already in the
pool shards under ``DIR`` (by id, and by their letters alone, since the splitter has changed
how a few sentences end since the first draw) are not drawn again, and the new shards are
numbered on from ``N``:

    python -m bench.barrier_pool ../shared/corpus samples --total 2000 --shards 8 --seed 15 \
        --exclude nlp/data/barrier_training/pool --first-shard 5

drew shards 5-12 (1,963 sentences: some strata ran short) when the pool held shards 1-4, and

    python -m bench.barrier_pool ../shared/corpus samples --total 4000 --shards 16 --seed 16 \
        --exclude nlp/data/barrier_training/pool --first-shard 13

drew shards 13-28 (3,622) when it held shards 1-12.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import re
import sys
from collections import defaultdict
from pathlib import Path

from nlp.barrier_training import read_jsonl
from nlp.barriers import cue_strength, is_candidate, keyword_hits, load_taxonomy, skipped_blocks
from nlp.layout import build_layout
from nlp.segment import sentence_spans
from nlp.text import DocumentError, load_document

SUFFIXES = {".pdf", ".html", ".htm", ".md", ".markdown", ".txt", ".json"}
# Dev gold measures barriers on these: never train on them.
EXCLUDED_DOCS = {"corpus/think-tanks/nhs-getting-into-shape-web-final.md",
                 "corpus/nhs-england/nhs-england-productivity-update.md"}
EXCLUDED_PAGES = {"corpus/committees/lords-behaviour-change-report.pdf": {22, 23, 43, 46}}
SKIP_NAMES = {"MANIFEST.tsv", "README.md", "topic.json", "search.json", "Publications.json"}


def doc_name(path: Path) -> str:
    """Path relative to shared/ (corpus/...) or to the repository (samples/...)."""
    parts = path.resolve().parts
    for anchor in ("corpus", "samples"):
        if anchor in parts:
            i = len(parts) - 1 - parts[::-1].index(anchor)
            return "/".join(parts[i:])
    return path.name


def doc_sentences(path: Path, taxonomy) -> list[tuple[str, int | None]]:
    """(text, page) of every sentence the barrier component would look at."""
    src = load_document(path)
    layout = build_layout(src)
    skip = skipped_blocks(layout, taxonomy)
    out = []
    for s in sentence_spans(layout):
        if skip[s.block]:
            continue
        block = layout.blocks[s.block]
        text = layout.text[s.start:s.end].strip()
        if block.kind == "heading" and block.label is None and len(text.split()) < 8:
            continue
        page = layout.page_at(s.start) if src.paged else None
        out.append((re.sub(r"\s+", " ", text), page))
    return out


def stratum(text: str, taxonomy) -> str:
    words = len(text.split())
    if words < 4:
        return "tiny"
    letters = sum(c.isalpha() for c in text)
    if letters < 0.6 * len(text) or words > 120:
        return "junk"
    if is_candidate(text, taxonomy) or cue_strength(text, taxonomy) > 0:
        return "flagged"
    if keyword_hits(text, taxonomy).sum() > 0:
        return "topic"
    return "prose"


def population(roots: list[Path], taxonomy) -> dict[str, dict[str, list[dict]]]:
    """Every distinct sentence the pool may draw, by stratum and document (dev-gold documents
    and pages left out). ``bench.barrier_prevalence`` counts it to weight the labelled sample
    back to the documents' own proportions."""
    by_stratum: dict[str, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    seen: set[str] = set()
    files = sorted(f for r in roots for f in (r.rglob("*") if r.is_dir() else [r])
                   if f.is_file() and f.suffix.lower() in SUFFIXES and f.name not in SKIP_NAMES
                   and not f.name.endswith(".meta.json"))
    for f in files:
        name = doc_name(f)
        if name in EXCLUDED_DOCS:
            continue
        try:
            sents = doc_sentences(f, taxonomy)
        except DocumentError as exc:
            print(f"skip {name}: {exc}", file=sys.stderr)
            continue
        for text, page in sents:
            if page is not None and page in EXCLUDED_PAGES.get(name, ()):
                continue
            key = text.lower()
            if key in seen:
                continue
            seen.add(key)
            st = stratum(text, taxonomy)
            if st == "tiny":
                continue
            sid = hashlib.sha1(f"{name}\n{text}".encode()).hexdigest()[:12]
            by_stratum[st][name].append({"id": sid, "text": text, "doc": name, "page": page})
        print(f"{name}: {len(sents)} sentences", file=sys.stderr)
    return by_stratum


def letters(text: str) -> str:
    return re.sub(r"[^a-z]", "", text.lower())


def drawn_before(pool_dir: Path) -> tuple[set[str], set[str]]:
    """Ids and letter keys of the sentences in an earlier pool's shards."""
    rows = [r for f in sorted(pool_dir.glob("shard-*.jsonl")) for r in read_jsonl(f) if "id" in r]
    return {r["id"] for r in rows}, {letters(r["text"]) for r in rows}


def build_pool(roots: list[Path], total: int = 2400, seed: int = 14,
               exclude: list[Path] = ()) -> list[dict]:
    rng = random.Random(seed)
    by_stratum = population(roots, load_taxonomy())
    ids, keys = set(), set()
    for d in exclude:
        i, k = drawn_before(d)
        ids |= i
        keys |= k
    if ids:
        by_stratum = {st: {d: [r for r in rows if r["id"] not in ids and letters(r["text"]) not in keys]
                           for d, rows in docs.items()} for st, docs in by_stratum.items()}
    quotas = {"flagged": 0.40, "topic": 0.20, "prose": 0.35, "junk": 0.05}
    pool: list[dict] = []
    for st, share in quotas.items():
        docs = by_stratum.get(st, {})
        want = int(total * share)
        # Each document's share grows with the square root of its size: long inquiry
        # volumes contribute more, but cannot swamp the short plans and guidance.
        weights = {d: math.sqrt(len(v)) for d, v in docs.items()}
        wsum = sum(weights.values()) or 1.0
        chosen: list[dict] = []
        for d in sorted(docs):
            items = list(docs[d])
            rng.shuffle(items)
            chosen += items[:max(1, round(want * weights[d] / wsum))]
        rng.shuffle(chosen)
        pool += chosen[:want]
    rng.shuffle(pool)
    return pool


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("roots", nargs="+", type=Path)
    ap.add_argument("--out", type=Path, default=Path("nlp/data/barrier_training/pool"))
    ap.add_argument("--total", type=int, default=2400)
    ap.add_argument("--shards", type=int, default=4)
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--exclude", type=Path, action="append", default=[],
                    help="a pool directory whose sentences are not drawn again")
    ap.add_argument("--first-shard", type=int, default=1, help="number of the first shard written")
    args = ap.parse_args(argv)
    pool = build_pool(args.roots, args.total, args.seed, args.exclude)
    args.out.mkdir(parents=True, exist_ok=True)
    for n in range(args.shards):
        rows = pool[n::args.shards]
        with (args.out / f"shard-{n + args.first_shard}.jsonl").open("w", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    counts = defaultdict(int)
    for row in pool:
        counts[row["doc"]] += 1
    for d, c in sorted(counts.items(), key=lambda x: -x[1]):
        print(f"{c:5d} {d}", file=sys.stderr)
    print(f"{len(pool)} sentences in {args.shards} shards under {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
