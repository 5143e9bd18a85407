"""Lifecycle, stance and per-shape figures for ``kb eval``.

The lifecycle promise is 'this response answers that recommendation, and says this'. A gold
government response lists the ids of the report's recommendations it answers
(``responds_to_ids``) and its stance. A predicted response counts as linked right when it
matches that gold response, ``nlp.labels.link`` ties it (by printed label, ranges expanded,
or by the text it quotes) to predicted recommendations of the report the response document
answers (``responds_to_doc``), those predictions match some of the gold ids and no other
gold recommendation (none at all for an answer to a conclusion), and its stance is right.
"""
from __future__ import annotations

from collections import Counter

from nlp.labels import link

STANCES = ("accepted", "accepted_in_principle", "partially_accepted", "rejected", "noted", "other")


def stance_ok(predicted: str, gold: dict) -> bool:
    return predicted in [gold.get("response")] + list(gold.get("response_alt", []) or [])


def score_lifecycle(docs: dict[str, dict]) -> dict:
    """``docs``: gold doc path → {"entry", "result", "matched"} (matched: type → {pred: gold index})."""
    total = linked = linked_stance = 0
    misses = []
    for path, d in docs.items():
        report = docs.get(d["entry"].get("responds_to_doc") or "")
        if report is None:
            continue
        gold = [g for g in d["entry"].get("recommendations", []) or [] if "response" in g or "responds_to" in g]
        rec_gold_ids = _gold_ids(report)
        recs = [(str(i), r.label, r.text) for i, r in enumerate(report["result"].recommendations)]
        owner = {gi: pi for pi, gi in d["matched"].get("responses", {}).items()}
        for gi, g in enumerate(gold):
            total += 1
            pi = owner.get(gi)
            if pi is None:
                misses.append({"doc": path, "anchor": g.get("anchor"), "why": "response not found"})
                continue
            pred = d["result"].responses[pi]
            ids, _ = link(pred.responds_to, pred.quoted, recs)
            got = {rec_gold_ids[int(x)] for x in ids if int(x) in rec_gold_ids}
            want = set(g.get("responds_to_ids") or [])
            ok = (bool(got) and got <= want) if want else not got
            linked += ok
            linked_stance += ok and stance_ok(pred.stance, g)
            if not (ok and stance_ok(pred.stance, g)):
                misses.append({"doc": path, "anchor": g.get("anchor"), "responds_to": pred.responds_to,
                               "linked": sorted(got), "gold": sorted(want), "stance": pred.stance,
                               "gold_stance": g.get("response")})
    return {"responses": total, "linked": linked, "linked_with_stance": linked_stance,
            "rate": round(linked_stance / total, 4) if total else None, "misses": misses}


def _gold_ids(report: dict) -> dict[int, str]:
    """Predicted recommendation index → the gold id it matched."""
    items = [g for g in report["entry"].get("recommendations", []) or []
             if not ("response" in g or "responds_to" in g)]
    out = {}
    for pi, gi in report["matched"].get("recommendations", {}).items():
        if gi < len(items) and items[gi].get("id"):
            out[pi] = items[gi]["id"]
    return out


def stance_confusion(docs: dict[str, dict]) -> dict[str, dict[str, int]]:
    """Gold stance → predicted stance → count, over matched responses."""
    table: dict[str, Counter] = {}
    for d in docs.values():
        gold = [g for g in d["entry"].get("recommendations", []) or [] if "response" in g or "responds_to" in g]
        for pi, gi in d["matched"].get("responses", {}).items():
            table.setdefault(gold[gi].get("response"), Counter())[d["result"].responses[pi].stance] += 1
    return {g: dict(c) for g, c in table.items()}


def by_shape(documents: list[dict], shapes: dict[str, str]) -> dict[str, dict[str, dict]]:
    """Summed tp/fp/fn per document shape (gold ``doc_type``) and type."""
    out: dict[str, dict[str, dict]] = {}
    for doc in documents:
        shape = shapes.get(doc["doc"], "other")
        for type_, s in doc["types"].items():
            acc = out.setdefault(shape, {}).setdefault(type_, {"tp": 0, "fp": 0, "fn": 0})
            for k in acc:
                acc[k] += s[k]
    for types in out.values():
        for s in types.values():
            p = s["tp"] / (s["tp"] + s["fp"]) if s["tp"] + s["fp"] else 1.0
            r = s["tp"] / (s["tp"] + s["fn"]) if s["tp"] + s["fn"] else 1.0
            s["f1"] = round(2 * p * r / (p + r), 4) if p + r else 0.0
    return out


def format_extra(result: dict) -> str:
    """Per document, per shape, stance confusion and lifecycle lines for ``kb eval``."""
    lines = ["per document (tp/fp/fn):"]
    docs = result.get("documents", [])
    width = min(80, max((len(d["doc"]) for d in docs), default=10))
    for doc in docs:
        cells = [f"{t} {s['tp']}/{s['fp']}/{s['fn']}" for t, s in doc["types"].items() if t != "barriers"]
        name = doc["doc"] if len(doc["doc"]) <= width else "…" + doc["doc"][-(width - 1):]
        lines.append(f"  {name:<{width}} " + "  ".join(cells))
    lines.append("per shape (F1):")
    for shape, types in result.get("shapes", {}).items():
        lines.append(f"  {shape:<24}" + "  ".join(f"{t} {s['f1']:.3f}" for t, s in types.items() if t != "barriers"))
    confusion = result.get("stance_confusion") or {}
    if confusion:
        lines.append("stance confusion (rows gold, columns predicted):")
        lines.append("  " + " " * 22 + "".join(f"{s[:10]:>11}" for s in STANCES))
        for g in STANCES:
            if g in confusion:
                lines.append(f"  {g:<22}" + "".join(f"{confusion[g].get(s, 0):>11}" for s in STANCES))
    lc = result.get("lifecycle") or {}
    if lc.get("responses"):
        lines.append(f"lifecycle: {lc['linked_with_stance']}/{lc['responses']} responses linked to the right "
                     f"recommendation with the right stance ({lc['rate']:.3f}); {lc['linked']} linked right")
    return "\n".join(lines)
