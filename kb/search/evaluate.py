"""Score search against relevance judgements: nDCG@10 and recall@10, per mode and per query.

A judgements file is a list of ``{"query", "relevant": {path: grade}}`` or a gold file whose
top-level ``"search"`` holds that list (``../shared/gold/README.md``): grade 2 is highly
relevant, 1 partly, anything unlisted 0. Paths are relative to a root folder. The knowledge
base stores its own copy of every file (``raw/``), so a judged path is matched to a document
by the sha256 of the file's bytes, the key every document is stored under.

Search returns passages; a researcher reads documents. Each document is ranked by its best
passage, and search is asked for more passages until ten distinct documents are found.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from kb.store.digest import file_sha256
from kb.store.knowledge import KnowledgeBase
from kb.search.engine import MODES, search

PASSAGE_DEPTHS = (50, 200, 800)  # how many passages to ask for, in turn, to reach k documents


@dataclass
class Judgement:
    query: str
    relevant: dict[str, int]  # path → grade (> 0)


def load_judgements(path: str | Path) -> list[Judgement]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if isinstance(data, dict):
        if "search" not in data:
            raise ValueError(f"{path}: expected a list of judgements or an object with a 'search' list")
        data = data["search"]
    if not isinstance(data, list):
        raise ValueError(f"{path}: the judgements must be a list")
    out = []
    for n, item in enumerate(data, 1):
        if not isinstance(item, dict) or not isinstance(item.get("query"), str) \
                or not isinstance(item.get("relevant"), dict):
            raise ValueError(f"{path}: judgement {n} needs a 'query' string and a 'relevant' object")
        relevant = {str(p): int(g) for p, g in item["relevant"].items() if int(g) > 0}
        out.append(Judgement(item["query"], relevant))
    return out


# --- metrics ------------------------------------------------------------------------------


def dcg(gains: Sequence[int], k: int = 10) -> float:
    """Discounted cumulative gain with graded gain 2^g − 1 and a log2(rank + 1) discount."""
    return sum((2 ** g - 1) / math.log2(rank + 2) for rank, g in enumerate(gains[:k]))


def ndcg(ranking: Sequence[str], relevant: dict[str, int], k: int = 10) -> float:
    """nDCG@k of a ranked list of keys; the ideal ranking orders every judged key by grade,
    so a relevant document the system cannot return (not ingested) still counts against it."""
    ideal = dcg(sorted(relevant.values(), reverse=True), k)
    if ideal == 0:
        return 0.0
    return dcg([relevant.get(key, 0) for key in ranking], k) / ideal


def recall(ranking: Sequence[str], relevant: dict[str, int], k: int = 10) -> float:
    """Share of the relevant keys (grade > 0) found in the top k."""
    wanted = {key for key, g in relevant.items() if g > 0}
    if not wanted:
        return 0.0
    return len(wanted & set(ranking[:k])) / len(wanted)


# --- evaluation ---------------------------------------------------------------------------


def document_ranking(kbase: KnowledgeBase, query: str, mode: str, k: int = 10) -> list[str]:
    """Distinct doc ids in the order of their best passage, at most k of them."""
    docs: list[str] = []
    for depth in PASSAGE_DEPTHS:
        hits = search(kbase, query, k=max(depth, k), mode=mode)
        docs = list(dict.fromkeys(h.doc_id for h in hits))
        if len(docs) >= k or len(hits) < max(depth, k):
            break
    return docs[:k]


def map_documents(kbase: KnowledgeBase, paths: Iterable[str], root: Path) -> tuple[dict[str, str], list[dict]]:
    """Judged path → doc id, and the judged paths the knowledge base does not hold."""
    found: dict[str, str] = {}
    missing: list[dict] = []
    for rel in sorted(set(paths)):
        file = root / rel
        if not file.is_file():
            missing.append({"path": rel, "reason": f"no such file under {root}"})
            continue
        doc = kbase.store.document_by_sha(file_sha256(file))
        if doc is None:
            missing.append({"path": rel, "reason": "not in the knowledge base (not ingested, or a different version)"})
        else:
            found[rel] = doc.id
    return found, missing


def evaluate_search(kbase: KnowledgeBase, judgements_path: str | Path, root: str | Path,
                    modes: Sequence[str] = MODES, k: int = 10) -> dict:
    """Mean and per-query nDCG@k and recall@k for each search mode.

    Returns ``{"judgements", "root", "k", "queries", "documents", "missing": [{"path",
    "reason"}], "modes": {mode: {"ndcg", "recall", "queries": [{"query", "ndcg", "recall",
    "relevant", "found", "ranking": [{"doc_id", "title", "url", "path", "grade"}]}]}}}``;
    ``path`` is the judged path of a ranked document, null for one nobody judged. A query with
    no relevant document has no nDCG and is left out of the means.
    """
    for mode in modes:
        if mode not in MODES:
            raise ValueError(f"unknown search mode {mode!r}; expected one of {', '.join(MODES)}")
    root = Path(root)
    judgements = load_judgements(judgements_path)
    doc_for, missing = map_documents(kbase, (p for j in judgements for p in j.relevant), root)
    path_for = {doc_id: path for path, doc_id in doc_for.items()}
    docs = {d.id: d for d in kbase.store.documents()}
    publication = {d.id: d.publication_id or d.id for d in docs.values()}

    report_modes: dict[str, dict] = {}
    for mode in modes:
        per_query, sums = [], [0.0, 0.0]
        for j in judgements:
            shown = document_ranking(kbase, j.query, mode, k)
            # Judged keys are paths; a path not in the knowledge base keeps its path as key so
            # it still enters the ideal ranking but can never be retrieved. Renditions of one
            # publication (kb.renditions) are one result: search shows one, naming the others.
            keyed: dict[str, int] = {}
            for path, g in j.relevant.items():
                key = publication.get(doc_for[path], doc_for[path]) if path in doc_for else "missing:" + path
                keyed[key] = max(g, keyed.get(key, 0))
            ranking = list(dict.fromkeys(publication.get(d, d) for d in shown))
            q_ndcg, q_recall = ndcg(ranking, keyed, k), recall(ranking, keyed, k)
            sums[0] += q_ndcg
            sums[1] += q_recall
            per_query.append({
                "query": j.query,
                "ndcg": round(q_ndcg, 4),
                "recall": round(q_recall, 4),
                "relevant": len(j.relevant),
                "found": sum(1 for d in ranking if keyed.get(d, 0) > 0),
                "ranking": [{"doc_id": d, "title": docs[d].title if d in docs else None,
                             "url": docs[d].url if d in docs else None, "path": path_for.get(d),
                             "grade": keyed.get(publication.get(d, d), 0)} for d in shown],
            })
        scored = sum(1 for q in per_query if q["relevant"])  # a query with nothing relevant scores 0 and is left out
        report_modes[mode] = {
            "ndcg": round(sums[0] / scored, 4) if scored else None,
            "recall": round(sums[1] / scored, 4) if scored else None,
            "queries": per_query,
        }
    return {"judgements": str(judgements_path), "root": str(root), "k": k, "queries": len(judgements),
            "documents": len(doc_for), "missing": missing, "modes": report_modes}


def format_search_report(report: dict) -> str:
    """A summary table per mode, then nDCG per query and mode, then what could not be matched."""
    k = report["k"]
    modes = list(report["modes"])
    fmt = lambda v: "  —  " if v is None else f"{v:.3f}"  # noqa: E731
    lines = [f"{report['queries']} queries, {report['documents']} judged documents found in the knowledge base",
             "", f"{'mode':<10} {'nDCG@' + str(k):>8} {'recall@' + str(k):>10}"]
    for mode in modes:
        m = report["modes"][mode]
        lines.append(f"{mode:<10} {fmt(m['ndcg']):>8} {fmt(m['recall']):>10}")
    lines += ["", f"nDCG@{k} per query:", "  ".join(f"{m:>7}" for m in modes) + "  query"]
    for n, query in enumerate(report["modes"][modes[0]]["queries"] if modes else []):
        cells = "  ".join(f"{report['modes'][m]['queries'][n]['ndcg']:>7.3f}" for m in modes)
        lines.append(f"{cells}  {query['query']}")
    if report["missing"]:
        lines += ["", "judged documents not in the knowledge base:"]
        lines += [f"  {m['path']}: {m['reason']}" for m in report["missing"]]
    return "\n".join(lines)
