"""Score extraction against a gold file (format: shared/gold/README.md).

``evaluate(gold_path, root)`` extracts every gold document under ``root`` (the folder that
holds ``seeds/`` and ``corpus/``) and returns precision, recall and F1 per type (funding,
recommendations, responses, barriers), theme / kind / period / stance accuracy on matched
items, a per-document breakdown and the list of misses.

Matching follows the README: a prediction matches a gold item when its source sentence
contains the item's anchor (or one of its ``other_mentions`` / ``supporting_anchors``), or
overlaps it by at least half the anchor's words; on the same page for PDFs; with an equal
amount for funding. Predictions and gold items are matched one to one (maximum matching);
extra predictions of an already matched item, and predictions that match a ``borderline``
entry, are neutral. ``precision_pages`` and ``ignore_pages`` limit where false positives
count. Types a document lists as neither ``exhaustive`` nor ``best_effort`` are not scored.
"""
from __future__ import annotations

import json
import logging
import math
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from nlp.evaluate_lifecycle import by_shape, format_extra, score_lifecycle, stance_confusion
from nlp.models import ExtractedDocument, SourceDocument

log = logging.getLogger(__name__)

TYPES = ("funding", "recommendations", "responses", "barriers")
_QUOTES = "‘’“”\"'`´"


def normalise(text: str) -> str:
    """Lowercase, no markdown escapes or emphasis, no quotes, single spaces."""
    text = text.lower().replace("\\", "").replace("*", "")
    text = text.translate({ord(c): None for c in _QUOTES})
    return " ".join(text.split())


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9£%]+", normalise(text))


@dataclass
class Anchor:
    words: list[str]
    page: int | None

    def runs(self) -> list[str]:
        """Contiguous word runs of at least half the anchor (longest first)."""
        n = len(self.words)
        need = max(1, math.ceil(n / 2))
        out = []
        for length in range(n, need - 1, -1):
            for i in range(0, n - length + 1):
                out.append(" " + " ".join(self.words[i:i + length]) + " ")
        return out


@dataclass
class GoldItem:
    type: str
    index: int
    anchors: list[Anchor]
    data: dict

    @property
    def page(self) -> int | None:
        return self.anchors[0].page if self.anchors else None


@dataclass
class Pred:
    type: str
    text: str
    page: int | None
    data: dict
    padded: str = ""

    def __post_init__(self) -> None:
        self.padded = " " + " ".join(words(self.text)) + " "


def _anchor(entry: dict, default_page=None) -> Anchor:
    return Anchor(words(entry.get("anchor", "")), entry.get("page", default_page))


def locates(pred: Pred, anchor: Anchor, paged: bool, strict: bool = False) -> bool:
    """The prediction's sentence holds the anchor (``strict``) or half of its words in a row."""
    if paged and anchor.page is not None and pred.page != anchor.page:
        return False
    if not anchor.words:
        return False
    if strict:
        return anchor.runs()[0] in pred.padded
    return any(run in pred.padded for run in anchor.runs())


def gold_items(entry: dict) -> dict[str, list[GoldItem]]:
    """Gold items by type; response statements are split off the recommendation list."""
    out: dict[str, list[GoldItem]] = {t: [] for t in TYPES}
    for t in ("funding", "barriers"):
        for i, item in enumerate(entry.get(t, []) or []):
            out[t].append(GoldItem(t, i, [_anchor(item)], item))
    for i, item in enumerate(entry.get("recommendations", []) or []):
        anchors = [_anchor(item)]
        anchors += [_anchor(m) for m in item.get("other_mentions", []) or []]
        anchors += [_anchor(a) if isinstance(a, dict) else Anchor(words(a), item.get("page"))
                    for a in item.get("supporting_anchors", []) or []]
        t = "responses" if "response" in item or "responds_to" in item else "recommendations"
        out[t].append(GoldItem(t, i, anchors, item))
    return out


def predictions(result: ExtractedDocument) -> dict[str, list[Pred]]:
    return {
        "funding": [Pred("funding", f.sentence, f.page, vars(f)) for f in result.funding],
        "recommendations": [Pred("recommendations", r.text, r.page, vars(r)) for r in result.recommendations],
        "responses": [Pred("responses", r.text, r.page, vars(r)) for r in result.responses],
        "barriers": [Pred("barriers", b.sentence, b.page, vars(b)) for b in result.barriers],
    }


def _compatible(pred: Pred, item: GoldItem, paged: bool, strict: bool = False) -> bool:
    if pred.type == "funding":
        gold_amount = float(item.data.get("amount_gbp", 0))
        if not math.isclose(float(pred.data["amount_gbp"]), gold_amount, rel_tol=1e-6):
            return False
    return any(locates(pred, a, paged, strict) for a in item.anchors)


def max_matching(edges: list[list[int]], n_gold: int, strong: list[list[int]] | None = None) -> dict[int, int]:
    """Maximum bipartite matching (Kuhn): prediction index → gold index.

    With ``strong`` edges (full-anchor containment) those are matched first, so a half
    overlap never steals an item from the prediction that holds the whole anchor.
    """
    owner: dict[int, int] = {}
    if strong is not None:
        first = max_matching(strong, n_gold)
        owner = {g: p for p, g in first.items()}

    def try_assign(p: int, seen: set[int]) -> bool:
        for g in edges[p]:
            if g in seen:
                continue
            seen.add(g)
            if g not in owner or try_assign(owner[g], seen):
                owner[g] = p
                return True
        return False

    for p in range(len(edges)):
        if edges[p] and p not in owner.values():
            try_assign(p, set())
    return {p: g for g, p in owner.items()}


def _pages(entry: dict, key: str, type_: str) -> set[int] | None:
    value = entry.get(key)
    if value is None:
        return None
    if isinstance(value, dict):
        value = value.get(type_)
        if value is None:
            return None
    return {int(v) for v in value}


@dataclass
class TypeScore:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    neutral: int = 0
    gold: int = 0
    predicted: int = 0
    exhaustive: bool = True

    def as_dict(self) -> dict:
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else (1.0 if self.gold == 0 else 0.0)
        r = self.tp / self.gold if self.gold else 1.0
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        return {"tp": self.tp, "fp": self.fp, "fn": self.fn, "neutral": self.neutral, "gold": self.gold,
                "predicted": self.predicted, "precision": round(p, 4), "recall": round(r, 4),
                "f1": round(f1, 4), "precision_reliable": self.exhaustive}

    def add(self, other: "TypeScore") -> None:
        for k in ("tp", "fp", "fn", "neutral", "gold", "predicted"):
            setattr(self, k, getattr(self, k) + getattr(other, k))
        self.exhaustive = self.exhaustive and other.exhaustive


@dataclass
class AttrTally:
    correct: int = 0
    total: int = 0

    def add(self, ok: bool) -> None:
        self.total += 1
        self.correct += int(ok)

    def value(self) -> float | None:
        return round(self.correct / self.total, 4) if self.total else None


def _norm_period(p: str | None) -> str | None:
    if p is None:
        return None
    return " ".join(str(p).lower().replace("-", "/").replace("–", "/").split())


IRREGULAR = {"spent": "spend", "paid": "pay", "bought": "buy", "sold": "sell", "made": "make", "gave": "give",
             "given": "give", "children": "child", "people": "person", "men": "man", "women": "woman"}


def stem(word: str) -> str:
    """A light stem, so that one word's forms compare equal ('spend', 'spending', 'spent';
    'doctor', 'doctors'; 'cost', 'costs'; 'saving', 'savings', 'saved'): the gold's subjects
    are free text and its README asks for a loose comparison. No dictionary, no model."""
    word = IRREGULAR.get(word, word)
    if len(word) > 4 and word.endswith("ies"):
        word = word[:-3] + "y"
    elif len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    for suffix in ("ing", "ment", "ed"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            word = word[:-len(suffix)]
            break
    return word[:-1] if len(word) > 3 and word.endswith("e") else word


def token_overlap(a: str | None, b: str | None, loose: bool = False) -> float:
    """Share of the gold phrase's content words found in the predicted one (0..1); with
    ``loose``, words are compared by their stems (``stem``)."""
    stop = {"the", "a", "an", "of", "for", "and", "on", "in", "to", "s", "its", "their"}
    norm = stem if loose else (lambda w: w)
    ga = {norm(w) for w in words(b or "") if w not in stop}
    pa = {norm(w) for w in words(a or "") if w not in stop}
    if not ga:
        return 1.0 if not pa else 0.0
    return len(ga & pa) / len(ga)


def token_f1(a: str | None, b: str | None) -> float:
    """Like ``token_overlap`` (loose), but a long prediction pays for its extra words: the
    harmonic mean of the share of the gold's content words found and the share of the
    prediction's content words that are the gold's. The gold's README asks only for a loose
    comparison 'for example by token overlap'; the one-sided overlap is the headline figure,
    this one shows that longer subjects did not buy it."""
    stop = {"the", "a", "an", "of", "for", "and", "on", "in", "to", "s", "its", "their"}
    ga = {stem(w) for w in words(b or "") if w not in stop}
    pa = {stem(w) for w in words(a or "") if w not in stop}
    if not ga:
        return 1.0 if not pa else 0.0
    both = len(ga & pa)
    return 2 * both / (len(ga) + len(pa)) if both else 0.0


@dataclass
class Tallies:
    kind: AttrTally = field(default_factory=AttrTally)
    period: AttrTally = field(default_factory=AttrTally)
    subject: AttrTally = field(default_factory=AttrTally)
    theme: AttrTally = field(default_factory=AttrTally)
    stance: AttrTally = field(default_factory=AttrTally)
    responds_to: AttrTally = field(default_factory=AttrTally)
    actor: AttrTally = field(default_factory=AttrTally)
    deadline: AttrTally = field(default_factory=AttrTally)
    label: AttrTally = field(default_factory=AttrTally)
    subject_overlap: list[float] = field(default_factory=list)  # token overlap per matched funding item (stems)
    subject_overlap_strict: list[float] = field(default_factory=list)  # the same, exact words
    subject_f1: list[float] = field(default_factory=list)  # two-sided: extra predicted words count against
    themed_tp: int = 0

    def as_dict(self) -> dict:
        return {
            "funding_kind_accuracy": self.kind.value(),
            "funding_period_accuracy": self.period.value(),
            "funding_subject_overlap_rate": self.subject.value(),
            "funding_subject_token_overlap": (round(sum(self.subject_overlap) / len(self.subject_overlap), 4)
                                              if self.subject_overlap else None),
            "funding_subject_token_overlap_strict": (
                round(sum(self.subject_overlap_strict) / len(self.subject_overlap_strict), 4)
                if self.subject_overlap_strict else None),
            "funding_subject_token_f1": (round(sum(self.subject_f1) / len(self.subject_f1), 4)
                                         if self.subject_f1 else None),
            "barrier_theme_accuracy": self.theme.value(),
            "response_stance_accuracy": self.stance.value(),
            "response_link_accuracy": self.responds_to.value(),
            "recommendation_actor_accuracy": self.actor.value(),
            "recommendation_deadline_accuracy": self.deadline.value(),
            "recommendation_label_accuracy": self.label.value(),
        }


def _score_attributes(pred: Pred, item: GoldItem, tallies: Tallies) -> dict:
    g, d = item.data, pred.data
    notes = {}
    if pred.type == "funding":
        kinds = [g.get("kind")] + list(g.get("kind_alt", []) or [])
        ok = d["kind"] in kinds
        tallies.kind.add(ok)
        periods = [_norm_period(g.get("period"))] + [_norm_period(p) for p in g.get("period_alt", []) or []]
        pok = _norm_period(d["period"]) in periods
        tallies.period.add(pok)
        if g.get("subject"):
            overlap = token_overlap(d.get("subject"), g.get("subject"), loose=True)
            strict = token_overlap(d.get("subject"), g.get("subject"))
            f1 = token_f1(d.get("subject"), g.get("subject"))
        else:
            overlap = strict = f1 = float(d.get("subject") is None)
        tallies.subject_f1.append(f1)
        tallies.subject.add(overlap >= 0.5)
        tallies.subject_overlap.append(overlap)
        tallies.subject_overlap_strict.append(strict)
        if overlap < 0.5:
            notes["subject"] = f"{d.get('subject')} (gold {g.get('subject')})"
        if not ok:
            notes["kind"] = f"{d['kind']} (gold {g.get('kind')})"
        if not pok:
            notes["period"] = f"{d['period']} (gold {g.get('period')})"
    elif pred.type == "barriers":
        themes = list(g.get("themes") or [g.get("theme")])
        ok = d["theme"] in themes
        tallies.theme.add(ok)
        tallies.themed_tp += int(ok)
        if not ok:
            notes["theme"] = f"{d['theme']} (gold {themes})"
    elif pred.type == "responses":
        stances = [g.get("response")] + list(g.get("response_alt", []) or [])
        ok = d["stance"] in stances
        tallies.stance.add(ok)
        gold_to = g.get("responds_to")
        gold_to = gold_to if isinstance(gold_to, list) else [gold_to] if gold_to else []
        pred_to = re.findall(r"\d+", str(d.get("responds_to") or ""))
        tallies.responds_to.add(bool(gold_to) and any(re.findall(r"\d+", str(x))[:1] == pred_to[:1]
                                                      for x in gold_to))
        if not ok:
            notes["stance"] = f"{d['stance']} (gold {g.get('response')})"
    elif pred.type == "recommendations":
        if g.get("actor"):
            tallies.actor.add(token_overlap(d.get("actor"), g["actor"]) >= 0.5
                              or token_overlap(g["actor"], d.get("actor")) >= 0.5)
        else:
            tallies.actor.add(d.get("actor") is None or (
                bool(g.get("actor_implied")) and token_overlap(d.get("actor"), g.get("actor_implied")) > 0))
        tallies.deadline.add((d.get("deadline") is None) == (g.get("deadline") is None) and (
            g.get("deadline") is None or token_overlap(d.get("deadline"), g.get("deadline")) >= 0.5))
        if g.get("number") is not None:
            tallies.label.add(str(d.get("label") or "").lower() == str(g["number"]).lower())
    return notes


def score_document(entry: dict, result: ExtractedDocument, paged: bool, tallies: Tallies) -> dict:
    scored = set(entry.get("exhaustive", []) or []) | set(entry.get("best_effort", []) or [])
    if "recommendations" in scored:
        scored.add("responses")
    exhaustive = set(entry.get("exhaustive", []) or [])
    gold = gold_items(entry)
    preds = predictions(result)
    borderline = entry.get("borderline", {}) or {}
    doc_out: dict = {"doc": entry["doc"], "types": {}, "misses": [], "false_positives": [], "attribute_errors": [],
                     "_matched": {}}
    for type_ in TYPES:
        if type_ not in scored:
            continue
        if type_ == "responses" and not gold["responses"] and not preds["responses"]:
            continue
        items = gold[type_]
        plist = preds[type_]
        edges = [[gi for gi, item in enumerate(items) if _compatible(p, item, paged)] for p in plist]
        strong = [[gi for gi in e if _compatible(p, items[gi], paged, strict=True)] for p, e in zip(plist, edges)]
        matched = max_matching(edges, len(items), strong)
        doc_out["_matched"][type_] = matched
        border_key = "recommendations" if type_ == "responses" else type_
        border = [_anchor(b) for b in borderline.get(border_key, []) or []]
        ignore = _pages(entry, "ignore_pages", type_)
        precision_pages = _pages(entry, "precision_pages", type_)
        score = TypeScore(gold=len(items), exhaustive=(type_ in exhaustive or
                                                       (type_ == "responses" and "recommendations" in exhaustive)))
        for pi, p in enumerate(plist):
            if ignore and p.page in ignore:
                continue
            score.predicted += 1
            if pi in matched:
                score.tp += 1
                notes = _score_attributes(p, items[matched[pi]], tallies)
                if notes:
                    doc_out["attribute_errors"].append({"type": type_, "anchor": items[matched[pi]].data.get("anchor"),
                                                        **notes})
            elif edges[pi] or any(locates(p, b, paged) for b in border):
                score.neutral += 1
            elif precision_pages is not None and p.page not in precision_pages:
                score.neutral += 1
            else:
                score.fp += 1
                doc_out["false_positives"].append({"type": type_, "page": p.page, "text": p.text[:240]})
        hit = set(matched.values())
        for gi, item in enumerate(items):
            if gi not in hit:
                score.fn += 1
                doc_out["misses"].append({"doc": entry["doc"], "type": type_, "page": item.page,
                                          "anchor": item.data.get("anchor"),
                                          **({"theme": item.data.get("theme")} if type_ == "barriers" else {}),
                                          **({"amount_gbp": item.data.get("amount_gbp")} if type_ == "funding" else {})})
        doc_out["types"][type_] = score
    return doc_out


def evaluate(gold_path: Path, root: Path, *, embedder=None,
             extractor: Callable[[SourceDocument], ExtractedDocument] | None = None) -> dict:
    """Precision/recall/F1 of extraction against ``gold_path``; documents are read under ``root``."""
    from nlp.extract import extract
    from nlp.text import load_document

    gold_path, root = Path(gold_path), Path(root)
    gold = json.loads(gold_path.read_text(encoding="utf-8"))
    extractor = extractor or (lambda d: extract(d, embedder=embedder))
    totals = {t: TypeScore() for t in TYPES}
    reliable = {t: TypeScore() for t in TYPES}  # documents where the type is labelled exhaustively
    themed_reliable = [0, 0, 0]  # themed tp, tp+fp, gold on exhaustive barrier documents
    present = set()
    tallies = Tallies()
    documents, misses, skipped = [], [], []
    kept: dict[str, dict] = {}  # for the lifecycle: each document's result and matching
    started = time.perf_counter()
    for entry in gold.get("documents", []):
        path = root / entry["doc"]
        if not path.exists():
            skipped.append({"doc": entry["doc"], "reason": "file not found"})
            continue
        source = load_document(path)
        t0 = time.perf_counter()
        result = extractor(source)
        seconds = time.perf_counter() - t0
        themed_before = tallies.themed_tp
        doc_out = score_document(entry, result, source.paged, tallies)
        for type_, score in doc_out["types"].items():
            totals[type_].add(score)
            present.add(type_)
            if score.exhaustive:
                reliable[type_].add(score)
                if type_ == "barriers":
                    themed_reliable[0] += tallies.themed_tp - themed_before
                    themed_reliable[1] += score.tp + score.fp
                    themed_reliable[2] += score.gold
        misses.extend(doc_out["misses"])
        kept[entry["doc"]] = {"entry": entry, "result": result, "matched": doc_out.pop("_matched")}
        doc_out["types"] = {t: s.as_dict() for t, s in doc_out["types"].items()}
        doc_out["seconds"] = round(seconds, 3)
        documents.append(doc_out)
    b = totals["barriers"]
    themed_p = tallies.themed_tp / (b.tp + b.fp) if b.tp + b.fp else 0.0
    themed_r = tallies.themed_tp / b.gold if b.gold else 0.0
    return {
        "gold": str(gold_path),
        "split": gold.get("split"),
        "totals": {t: totals[t].as_dict() for t in TYPES if t in present},
        "totals_exhaustive": {t: reliable[t].as_dict() for t in TYPES if reliable[t].gold or reliable[t].predicted},
        "barriers_themed": {
            "precision": round(themed_p, 4), "recall": round(themed_r, 4),
            "f1": round(2 * themed_p * themed_r / (themed_p + themed_r), 4) if themed_p + themed_r else 0.0,
        },
        "barriers_themed_exhaustive": {
            "precision": round(themed_reliable[0] / themed_reliable[1], 4) if themed_reliable[1] else None,
            "recall": round(themed_reliable[0] / themed_reliable[2], 4) if themed_reliable[2] else None,
        },
        "attributes": tallies.as_dict(),
        "responses_with_stance": _with_stance(totals["responses"], tallies),
        "shapes": by_shape(documents, {e["doc"]: e.get("doc_type", "other") for e in gold.get("documents", [])}),
        "stance_confusion": stance_confusion(kept),
        "lifecycle": score_lifecycle(kept),
        "documents": documents,
        "misses": misses,
        "skipped": skipped,
        "seconds": round(time.perf_counter() - started, 2),
    }


def _with_stance(score: TypeScore, tallies: Tallies) -> dict:
    """Responses counted as found only when their stance is right too."""
    tp = tallies.stance.correct
    p = tp / (score.tp + score.fp) if score.tp + score.fp else 0.0
    r = tp / score.gold if score.gold else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0}


def format_table(result: dict) -> str:
    """A plain-text summary of ``evaluate``'s result (what ``kb eval`` prints)."""
    lines = [f"{'type':<18}{'P':>7}{'R':>7}{'F1':>7}{'TP':>5}{'FP':>5}{'FN':>5}"]
    for type_, s in result["totals"].items():
        mark = "" if s["precision_reliable"] else "  (precision approximate)"
        lines.append(f"{type_:<18}{s['precision']:>7.3f}{s['recall']:>7.3f}{s['f1']:>7.3f}"
                     f"{s['tp']:>5}{s['fp']:>5}{s['fn']:>5}{mark}")
    rs = result.get("responses_with_stance")
    if rs and "responses" in result["totals"]:
        lines.append(f"{'responses+stance':<18}{rs['precision']:>7.3f}{rs['recall']:>7.3f}{rs['f1']:>7.3f}"
                     "  (stance must be right)")
    t = result["barriers_themed"]
    lines.append(f"{'barriers+theme':<18}{t['precision']:>7.3f}{t['recall']:>7.3f}{t['f1']:>7.3f}"
                 "  (theme must be right)")
    ex = result.get("totals_exhaustive", {})
    if ex:
        lines.append("exhaustively labelled documents only (reliable precision):")
        for type_, s in ex.items():
            lines.append(f"  {type_:<16}{s['precision']:>7.3f}{s['recall']:>7.3f}{s['f1']:>7.3f}"
                         f"{s['tp']:>5}{s['fp']:>5}{s['fn']:>5}")
        te = result.get("barriers_themed_exhaustive") or {}
        if te.get("precision") is not None:
            lines.append(f"  {'barriers+theme':<16}{te['precision']:>7.3f}{te['recall']:>7.3f}")
    for name, value in result["attributes"].items():
        if value is not None:
            lines.append(f"{name:<36}{value:>7.3f}")
    return "\n".join(lines) + "\n" + format_extra(result)


format_report = format_table  # the name ``kb eval`` imports


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="Score extraction against a gold file")
    parser.add_argument("gold", type=Path)
    parser.add_argument("root", type=Path, nargs="?")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    root = args.root or args.gold.resolve().parent.parent
    result = evaluate(args.gold, root)
    print(json.dumps(result, indent=2, ensure_ascii=False) if args.json else format_table(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
