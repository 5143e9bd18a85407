"""Two blind readings of the barrier pool → agreement, disagreements to adjudicate, final labels.

The pool (``nlp/data/barrier_training/pool``) was read twice, blind, against ``GUIDE.md``:
``labelled1/`` (first reading) and ``labelled2/`` (second reading, after rules 11–21). Where
they disagree, a third reader decides by reading the sentence against the guide; the decisions
are kept in ``adjudicated.jsonl`` (id, both readings, final, one-line reason) so every final
label can be traced. ``labelled/`` holds the final labels that ``kb train-barriers`` reads.

    python -m bench.barrier_adjudicate pending [--limit N]   # disagreements still to decide
    python -m bench.barrier_adjudicate decide < decisions.tsv  # id, B|N|J, themes, reason
    python -m bench.barrier_adjudicate build                 # kappa, counts, writes labelled/

``corrections.jsonl`` holds the few labels changed *after* adjudication, where a later reading
(error analysis of cross-validated mistakes) found a label against a rule of the guide that
the two readings had agreed on: id, before, after, rule, reason. It is applied last, so each
change is logged and can be undone. Labels are never changed to agree with the model.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "nlp" / "data" / "barrier_training"
KEEP = ("barrier", "themes", "quality")


def _read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def reading(name: str, data: Path = DATA) -> dict[str, dict]:
    """One reading's labels by id (shards only: the handwritten cases have one author)."""
    out: dict[str, dict] = {}
    for f in sorted((data / name).glob("shard-*.jsonl")):
        for r in _read(f):
            if "id" in r and "barrier" in r:
                out[r["id"]] = {k: r.get(k) for k in KEEP}
    return out


def disagree(a: dict, b: dict) -> bool:
    """The readings differ on barrier or quality, or both say barrier with no theme in common."""
    if a["barrier"] != b["barrier"] or a["quality"] != b["quality"]:
        return True
    return bool(a["barrier"]) and not set(a["themes"]) & set(b["themes"])


def kappa(pairs: list[tuple[bool, bool]]) -> float:
    """Cohen's kappa of two readers' yes/no labels."""
    n = len(pairs)
    po = sum(a == b for a, b in pairs) / n
    pa, pb = sum(a for a, _ in pairs) / n, sum(b for _, b in pairs) / n
    pe = pa * pb + (1 - pa) * (1 - pb)
    return (po - pe) / (1 - pe) if pe < 1 else 1.0


def adjudicated(data: Path = DATA) -> dict[str, dict]:
    path = data / "adjudicated.jsonl"
    return {r["id"]: r for r in _read(path)} if path.is_file() else {}


def corrections(data: Path = DATA) -> dict[str, dict]:
    """Post-adjudication corrections by id (see the module docstring)."""
    path = data / "corrections.jsonl"
    return {r["id"]: r for r in _read(path)} if path.is_file() else {}


def pool_texts(data: Path = DATA) -> dict[str, dict]:
    return {r["id"]: r for f in sorted((data / "pool").glob("*.jsonl")) for r in _read(f) if "id" in r}


def cmd_pending(limit: int, data: Path = DATA) -> None:
    r1, r2, done, pool = reading("labelled1", data), reading("labelled2", data), adjudicated(data), pool_texts(data)
    todo = [i for i in r2 if i in r1 and disagree(r1[i], r2[i]) and i not in done]
    for i in todo[:limit]:
        a, b = r1[i], r2[i]
        fmt = lambda x: ("J" if x["quality"] == "junk" else "B" if x["barrier"] else "N") + (
            " " + ",".join(x["themes"]) if x["barrier"] else "")
        print(f"{i}\t1:{fmt(a)}\t2:{fmt(b)}\t{pool[i]['doc'].split('/')[-1]} p{pool[i].get('page')}\n  {pool[i]['text']}")
    print(f"# {len(todo)} pending", file=sys.stderr)


def cmd_decide(lines=None, data: Path = DATA) -> None:
    """Append decisions (tab-separated: id, B/N/J, comma-separated themes, reason)."""
    r1, r2, done = reading("labelled1", data), reading("labelled2", data), adjudicated(data)
    with open(data / "adjudicated.jsonl", "a", encoding="utf-8") as fh:
        for line in (sys.stdin if lines is None else lines):
            if not line.strip() or line.startswith("#"):
                continue
            i, verdict, themes, reason = (line.rstrip("\n").split("\t") + ["", ""])[:4]
            if i in done or i not in r1 or i not in r2:
                continue
            v = verdict.strip().upper()
            final = {"barrier": v == "B", "themes": [t for t in themes.split(",") if t.strip()] if v == "B" else [],
                     "quality": "junk" if v == "J" else "ok"}
            if final["barrier"] and not final["themes"]:
                raise SystemExit(f"{i}: a barrier needs a theme")
            fh.write(json.dumps({"id": i, "reading1": r1[i], "reading2": r2[i], "final": final,
                                 "reason": reason.strip()}, ensure_ascii=False) + "\n")
            done[i] = final


def final_label(a: dict, b: dict | None, decided: dict | None) -> dict:
    """Adjudicated label, else the agreed one (themes: union, first reading's main theme first)."""
    if decided is not None:
        return decided["final"]
    if b is None:
        return a
    themes = list(dict.fromkeys(a["themes"] + b["themes"])) if a["barrier"] else []
    return {"barrier": a["barrier"], "themes": themes, "quality": a["quality"]}


def cmd_build(data: Path = DATA, quiet: bool = False) -> dict:
    """Agreement figures (also written to ``agreement.json``) and the final ``labelled/`` shards."""
    r1, r2, done = reading("labelled1", data), reading("labelled2", data), adjudicated(data)
    both = [i for i in r1 if i in r2]
    k = kappa([(bool(r1[i]["barrier"]), bool(r2[i]["barrier"])) for i in both])
    kq = kappa([(r1[i]["quality"] == "junk", r2[i]["quality"] == "junk") for i in both])
    dis = [i for i in both if disagree(r1[i], r2[i])]
    kinds = {"barrier": sum(r1[i]["barrier"] != r2[i]["barrier"] for i in dis),
             "quality only": sum(r1[i]["barrier"] == r2[i]["barrier"] and r1[i]["quality"] != r2[i]["quality"]
                                 for i in dis),
             "no common theme": sum(r1[i]["barrier"] and r2[i]["barrier"] and r1[i]["quality"] == r2[i]["quality"]
                                    for i in dis)}
    missing = [i for i in dis if i not in done]
    fixes = corrections(data)
    for f in sorted((data / "labelled1").glob("shard-*.jsonl")):
        lines = []
        for r in _read(f):
            if "id" not in r:
                lines.append(r)
                continue
            lab = final_label(r1[r["id"]], r2.get(r["id"]),
                              done.get(r["id"]) if r["id"] in dis else None)
            if r["id"] in fixes:
                if fixes[r["id"]]["before"] != lab:
                    raise SystemExit(f"{r['id']}: correction was made against another label")
                lab = fixes[r["id"]]["after"]
            lines.append({"id": r["id"], **lab})
        (data / "labelled" / f.name).write_text(
            "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), encoding="utf-8")
    changed = sum(done[i]["final"] != r1[i] for i in done if i in r1)
    summary = {"read_twice": len(both), "kappa_barrier": round(k, 3), "kappa_junk": round(kq, 3),
               "raw_agreement_barrier": round(sum(r1[i]["barrier"] == r2[i]["barrier"] for i in both) / len(both), 3),
               "disagreements": len(dis), "by_kind": kinds, "adjudicated": len([i for i in dis if i in done]),
               "final_differs_from_reading1": changed, "not_yet_adjudicated": len(missing),
               "final_barrier_from_adjudication": sum(done[i]["final"]["barrier"] for i in dis if i in done),
               "corrected_after_adjudication": len(fixes)}
    (data / "agreement.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    if not quiet:
        print(json.dumps(summary, indent=2))
    return summary


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("command", choices=["pending", "decide", "build"])
    ap.add_argument("--limit", type=int, default=10 ** 6)
    ap.add_argument("--data", type=Path, default=DATA)
    a = ap.parse_args(argv)
    {"pending": lambda: cmd_pending(a.limit, a.data), "decide": lambda: cmd_decide(data=a.data),
     "build": lambda: cmd_build(a.data)}[a.command]()


if __name__ == "__main__":
    main()
