"""Funding extraction on hostile and table-heavy text: seconds (wall and CPU) and figures kept.

Issue 17 measured a one-line text of repeated '£5.3 billion' at about 95 s per MB, 85 % of it
in the funding component (run once per mention, each rescanning its whole sentence). The
component now reads each sentence once and each amount in a bounded view, so the time grows
linearly and the per-document cap (``FundingLimits.max_items``) bounds the figures. CPU seconds
are reported beside wall seconds because a shared machine's wall time says little.

    python bench/funding_speed.py [--sizes 0.1 1 5] [--json]
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _markdown_table(cells: int) -> str:
    rng = random.Random(7)
    rows = ["Table 1: Core spending power by authority", "", "| Authority | 2021/22 | 2022/23 | 2023/24 | 2024/25 |",
            "|---|---|---|---|---|"]
    for i in range(cells // 4):
        rows.append(f"| Authority {i} | " + " | ".join(f"£{rng.randint(1, 900)},{rng.randint(100, 999)}"
                                                        for _ in range(4)) + " |")
    return "\n".join(rows) + "\n"


def bench_funding(sizes_mb: list[float]) -> dict:
    from nlp.extract import extract
    from nlp.models import SourceDocument
    from nlp.pipeline import build_pipeline

    nlp = build_pipeline(barriers=False)
    extract(SourceDocument("warm.txt", "text", ["The fund is worth £5.3 billion."], False), nlp=nlp)
    out: dict = {}

    def timed(name: str, doc: SourceDocument) -> None:
        wall, cpu = time.perf_counter(), time.process_time()
        result = extract(doc, nlp=nlp)
        out[f"funding_{name}_s"] = round(time.perf_counter() - wall, 2)
        out[f"funding_{name}_cpu_s"] = round(time.process_time() - cpu, 2)
        out[f"funding_{name}_figures"] = len(result.funding)
        out[f"funding_{name}_notes"] = result.notes

    for mb in sizes_mb:
        text = "The programme costs £5.3 billion " * int(mb * 1_000_000 / 33)
        timed(f"repeated_{mb:g}mb", SourceDocument("hostile.txt", "text", [text], False))
    timed("markdown_table_18961", SourceDocument("table.md", "markdown", [_markdown_table(18_961)], False))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=float, nargs="+", default=[0.1, 1.0, 5.0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = bench_funding(args.sizes)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            print(f"{key:<44}{value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
