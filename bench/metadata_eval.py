"""How many documents of a folder get the right publisher, title and year from the document
itself (no crawl sidecar): what ``kb ingest FOLDER`` stores, against a MANIFEST.tsv.

    python -m bench.metadata_eval ../shared/corpus [--json]

Judged loosely, as a reader would: a publisher is right when its words and the manifest's
overlap (``NHS England`` for 'NHS England (jointly with DHSC/LGA)'); a title when at least 60%
of the manifest title's main words are in it (or 60% of its own in the manifest's); a year
when it is the manifest's first year. Reads each file with the real loaders and
``nlp.cover.document_metadata``; extraction (slow) is not run.
"""
from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from pathlib import Path

STOP = {"the", "of", "and", "a", "an", "for", "to", "in", "on", "with", "by", "at", "from", "uk", "its", "into"}
GENERIC = {"hm", "government", "department", "office", "uk", "the", "of", "and"}


def words(text: str | None) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", (text or "").lower()) if w not in STOP and len(w) > 1}


def title_ok(got: str | None, truth: str, stem: str = "") -> bool:
    """Most of the manifest title's words (or of its main part, before ' - ' or ':') and few
    others; a file name is never right."""
    if not got or re.sub(r"\W+", " ", got).strip().lower() == re.sub(r"\W+", " ", stem).strip().lower():
        return False
    truth = re.sub(r"\([^()]*\)", "", truth)
    a = words(got)
    for part in [truth, *re.split(r"\s+-\s+|:\s+", truth)]:
        b = words(part)
        if a and b and len(a & b) / len(b) >= 0.6 and len(a & b) / len(a) >= 0.7:
            return True
    return False


def publisher_ok(got: str | None, truth: str) -> bool:
    a, b = words(got) - GENERIC, words(truth) - GENERIC
    if not got:
        return False
    if not a:  # 'HM Government' for a Cabinet Office / DHSC paper
        return "government" in truth.lower() or "hm " in truth.lower()
    initials = "".join(w[0] for w in re.findall(r"[a-z]+", got.lower()) if w not in STOP)
    return bool(a & b) or initials in b  # 'DHSC (GOV.UK)' for 'Department of Health and Social Care'



def year_ok(got: str | None, truth: str) -> bool:
    m = re.search(r"(19|20)\d{2}", truth or "")
    return bool(got and m and got[:4] == m.group(0))


SUFFIXES = {".pdf", ".html", ".htm", ".md", ".markdown", ".txt", ".json"}  # kb.index.ingest.SUFFIXES


def metadata(path: Path) -> dict:
    from nlp.text import load_document
    from nlp.cover import document_metadata

    doc = load_document(path)
    meta = document_metadata(doc)
    return {"title": meta.get("title"), "publisher": meta.get("publisher"),
            "published": meta.get("published")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    rows = list(csv.DictReader((args.folder / "MANIFEST.tsv").open(encoding="utf-8"), delimiter="\t"))
    out = []
    for row in rows:
        path = args.folder / row["local_path"]
        if not path.is_file() or path.suffix.lower() not in SUFFIXES:
            continue  # kb ingest does not take it (a CSV)
        try:
            got = metadata(path)
        except Exception as exc:  # a file the loaders refuse counts as wrong on every field
            got = {"title": None, "publisher": None, "published": None, "error": str(exc)[:100]}
        out.append({"path": row["local_path"], **got,
                    "title_ok": title_ok(got["title"], row["title"], path.stem),
                    "publisher_ok": publisher_ok(got["publisher"], row["publisher"]),
                    "year_ok": year_ok(got["published"], row["publication_date"]),
                    "truth": {"title": row["title"], "publisher": row["publisher"], "date": row["publication_date"]}})
    totals = {k: sum(r[k] for r in out) for k in ("title_ok", "publisher_ok", "year_ok")}
    totals["all_three"] = sum(r["title_ok"] and r["publisher_ok"] and r["year_ok"] for r in out)
    totals["documents"] = len(out)
    if args.json:
        json.dump({"totals": totals, "documents": out}, sys.stdout, indent=1)
        return 0
    for r in out:
        marks = "".join("✓" if r[k] else "✗" for k in ("publisher_ok", "title_ok", "year_ok"))
        print(f"{marks} {r['path']}\n    {r['publisher']!r} | {r['title']!r} | {r['published']!r}")
    print(json.dumps(totals))
    return 0


if __name__ == "__main__":
    sys.exit(main())
