"""The ``kb`` command line. Commands only read options, build one object and call it.

With ``--json`` only JSON goes to stdout; progress and logs always go to stderr. No
traceback reaches the user: an unexpected error is one line on stderr and exit status 2.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from kb.config import SOURCES, THEMES, Settings

log = logging.getLogger("kb")


def _emit(data) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def _err(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _year(value: str) -> int:
    if not value.isdigit() or not 1800 <= int(value) <= 2200:
        raise argparse.ArgumentTypeError(f"not a year: {value!r}")
    return int(value)


def _date(value: str) -> str:
    from datetime import date

    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None


def _megabytes(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = 0
    if not number > 0:
        raise argparse.ArgumentTypeError(f"not a size in megabytes: {value!r}")
    return number


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kb", description="Refrain: evidence and policy-document knowledge base "
                                "for UK health and social care integration.")
    p.add_argument("--home", help="knowledge base folder (default $KB_HOME or ./kbdata)")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging on stderr")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    c = sub.add_parser("crawl", help="crawl the publishers' sites and ingest what is new")
    c.add_argument("--source", choices=[*SOURCES, "all"], default="all")
    c.add_argument("--base-url", help="replace every publisher's host with this URL (fixtures, the demo site)")
    c.add_argument("--since", type=_date, help="only documents published on or after YYYY-MM-DD")
    c.add_argument("--no-ingest", action="store_true", help="store raw documents only")
    c.add_argument("--restart", action="store_true",
                   help="start afresh instead of resuming an interrupted crawl with the same options")
    c.add_argument("--max-size", type=_megabytes, metavar="MB",
                   help="refuse files larger than this many megabytes (default 100)")
    c.add_argument("--topic", metavar="TOPIC.json",
                   help="what to crawl: queries, organisations, series, date floor (default crawler/data/topic.json)")
    c.add_argument("--json", action="store_true")

    c = sub.add_parser("ingest", help="ingest files or folders (PDF, HTML, Markdown, text, GOV.UK JSON)")
    c.add_argument("paths", nargs="+", metavar="PATH")
    c.add_argument("--json", action="store_true")

    c = sub.add_parser("extract", help="extract one file without storing anything")
    c.add_argument("path", metavar="PATH")
    c.add_argument("--json", action="store_true")

    c = sub.add_parser("search", help="hybrid keyword + semantic search over passages")
    c.add_argument("query", metavar="QUERY")
    c.add_argument("-k", type=int, default=10, help="number of hits (1-100)")
    c.add_argument("--theme", choices=THEMES)
    c.add_argument("--source")
    c.add_argument("--from", dest="year_from", type=_year)
    c.add_argument("--to", dest="year_to", type=_year)
    c.add_argument("--type", dest="doc_type", help="document type, e.g. policy_paper")
    c.add_argument("--mode", choices=["hybrid", "keyword", "dense"], default="hybrid")
    c.add_argument("--by-document", action="store_true",
                   help="group hits by document: k documents, each with its best passages")
    c.add_argument("--json", action="store_true")

    c = sub.add_parser("recurrences", help="recommendations that recur across documents and years")
    c.add_argument("--min-years", type=int, default=2)
    c.add_argument("--kind", choices=["recommendation", "finding", "all"], default="all",
                   help="recommendations, findings (barrier sentences) or both")
    c.add_argument("--json", action="store_true")

    c = sub.add_parser("serve", help="serve the web app with a production WSGI server")
    c.add_argument("--host")
    c.add_argument("--port", type=int)

    c = sub.add_parser("stats", help="counts of documents and extractions")
    c.add_argument("--json", action="store_true")

    c = sub.add_parser("failures", help="files that could not be ingested, with reasons")
    c.add_argument("--json", action="store_true")

    c = sub.add_parser("reindex", help="rebuild Chroma and the recurrence groups from SQLite")
    c.add_argument("--json", action="store_true")

    c = sub.add_parser("doctor", help="compare SQLite with Chroma and repair missing or orphan vectors")
    c.add_argument("--check", action="store_true", help="report only, repair nothing")
    c.add_argument("--json", action="store_true")

    c = sub.add_parser("export", help="write the knowledge base to one portable archive (.tar.gz)")
    c.add_argument("path", metavar="PATH")
    c.add_argument("--json", action="store_true")

    c = sub.add_parser("import", help="restore an archive made by `kb export` into an empty $KB_HOME")
    c.add_argument("path", metavar="PATH")
    c.add_argument("--json", action="store_true")

    c = sub.add_parser("lifecycle", help="recommendations with the government responses linked to them")
    c.add_argument("--json", action="store_true")

    c = sub.add_parser("eval-search", help="score search against relevance judgements (nDCG@10, recall@10)")
    c.add_argument("judgements", metavar="JUDGEMENTS.json")
    c.add_argument("--root", help="folder the judged paths are relative to (default: the file's parent's parent)")
    c.add_argument("--mode", choices=["hybrid", "keyword", "dense", "all"], default="all")
    c.add_argument("--snapshot", action="store_true",
                   help="search through the in-memory snapshot the web server keeps (kb/snapshot.py)")
    c.add_argument("--json", action="store_true")

    c = sub.add_parser("demo", help="build the demo site, crawl it, ingest it, serve the app")
    c.add_argument("--no-serve", action="store_true", help="stop after ingesting")
    c.add_argument("--host")
    c.add_argument("--port", type=int)
    c.add_argument("--json", action="store_true")

    c = sub.add_parser("train-barriers", help="train the barrier classifier from the labelled sentences")
    c.add_argument("--data", help="labelled data folder (default nlp/data/barrier_training)")
    c.add_argument("--out", help="model file to write (default nlp/data/barrier_model.npz)")

    c = sub.add_parser("eval", help="score extraction against a gold file")
    c.add_argument("gold", metavar="GOLD.json")
    c.add_argument("--root", help="folder the gold paths are relative to (default: the gold file's parent's parent)")
    c.add_argument("--json", action="store_true")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("httpx", "chromadb", "sentence_transformers", "urllib3", "scrapy", "filelock"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        settings = Settings.from_env(args.home)
    except ValueError as exc:  # a bad KB_* setting: one line, never a traceback
        _err(f"kb {args.command}: error: {exc}")
        return 2
    from kb import commands

    handler = getattr(commands, "cmd_" + args.command.replace("-", "_"))
    try:
        return handler(settings, args) or 0
    except KeyboardInterrupt:
        _err("interrupted")
        return 130
    except Exception as exc:  # the contract: one line, never a traceback
        log.debug("unexpected error", exc_info=True)
        _err(f"kb {args.command}: error: {type(exc).__name__}: {exc}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
