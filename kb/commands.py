"""What each ``kb`` command does, given settings and parsed options. Thin on purpose:
the logic lives in ``kb.ingest``, ``kb.search``, ``kb.recurrence``, ``crawler.run``."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from kb.cli import _emit, _err
from kb.config import Settings
from kb.knowledge import KnowledgeBase


def _progress(result, n, total) -> None:
    line = f"[{n}/{total}] {result.status:9} {result.path}"
    if result.reason:
        line += f" — {result.reason}"
    _err(line)


def _summary(results) -> dict:
    counts = {s: 0 for s in ("new", "updated", "unchanged", "failed")}
    for r in results:
        counts[r.status] += 1
    return counts


def cmd_ingest(settings: Settings, args) -> int:
    from kb.ingest import ingest_paths

    present = [p for p in args.paths if Path(p).exists() or Path(p).is_symlink()]  # a broken link says so
    missing = [p for p in args.paths if p not in present]
    kbase = KnowledgeBase(settings)
    results = ingest_paths(kbase, present, progress=_progress)
    for p in missing:
        reason = "no such file or directory"
        kbase.store.record_failure(p, reason, _now())
        _err(f"failed    {p} — {reason}")
        from kb.ingest import IngestResult

        results.append(IngestResult(p, "failed", reason=reason))
    summary = _summary(results)
    if args.json:
        _emit({"summary": summary, "results": [r.to_json() for r in results]})
    else:
        _err(", ".join(f"{v} {k}" for k, v in summary.items()))
    return 1 if summary["failed"] else 0


def _now() -> str:
    from kb.ingest import now_iso

    return now_iso()


def cmd_extract(settings: Settings, args) -> int:
    from nlp.extract import extract
    from nlp.text import DocumentError, load_document

    try:
        doc = load_document(args.path)
    except DocumentError as exc:
        _err(f"{args.path}: {exc}")
        return 1
    result = extract(doc).to_json()
    if args.json:
        _emit(result)
    else:
        d = result["document"]
        print(f"{d['title']} ({d['published'] or 'undated'}, {d['pages'] or 'unpaged'})")
        for key in ("barriers", "recommendations", "funding", "responses"):
            print(f"  {key}: {len(result[key])}")
    return 0


def cmd_search(settings: Settings, args) -> int:
    from kb.search import Filters, search

    if not 1 <= args.k <= 100:
        _err("kb search: -k must be between 1 and 100")
        return 2
    kbase = KnowledgeBase(settings)
    filters = Filters(theme=args.theme, source=args.source, year_from=args.year_from, year_to=args.year_to,
                      doc_type=args.doc_type)
    if args.by_document:
        from kb.search import search_documents

        docs = search_documents(kbase, args.query, k=args.k, filters=filters, mode=args.mode)
        if args.json:
            _emit(docs)
            return 0
        for n, d in enumerate(docs, 1):
            print(f"{n}. {d['title']} ({d['source']}, {d['published'] or 'undated'})  {d['hits']} passages")
            print(f"   {d['url']}")
            for p in d["passages"]:
                page = f"p. {p['page']}: " if p["page"] else ""
                print(f"   - {page}{' '.join(p['text'].split())[:200]}")
        return 0
    hits = search(kbase, args.query, k=args.k, filters=filters, mode=args.mode)
    if args.json:
        _emit([h.to_json() for h in hits])
        return 0
    if not hits:
        print("no results")
    for n, h in enumerate(hits, 1):
        page = f", p. {h.page}" if h.page else ""
        print(f"{n}. {h.title} ({h.source}, {h.published or 'undated'}{page})  score {h.score:.4f}")
        print(f"   {h.url}")
        snippet = " ".join(h.text.split())
        print(f"   {snippet[:300]}{'…' if len(snippet) > 300 else ''}")
    return 0


def cmd_recurrences(settings: Settings, args) -> int:
    from kb.recurrence import recurrences

    groups = recurrences(KnowledgeBase(settings).store, min_years=args.min_years,
                         kind=None if args.kind == "all" else args.kind)
    if args.json:
        _emit(groups)
        return 0
    for g in groups:
        print(f"[{g['kind']}] {g['label']}  [{', '.join(map(str, g['years']))}]  "
              f"({g['count']} occurrences, id {g['id']})")
        for o in g["occurrences"]:
            page = f" p. {o['page']}" if o["page"] else ""
            print(f"   {o['published'] or '?'}  {o['title']}{page}")
    return 0


def cmd_stats(settings: Settings, args) -> int:
    stats = KnowledgeBase(settings).store.stats()
    if args.json:
        _emit(stats)
    else:
        for key, value in stats.items():
            print(f"{key}: {value}")
    return 0


def cmd_failures(settings: Settings, args) -> int:
    rows = KnowledgeBase(settings).store.failures()
    if args.json:
        _emit(rows)
    else:
        for r in rows:
            print(f"{r['at']}  {r['path']}: {r['reason']}")
    return 0


def cmd_reindex(settings: Settings, args) -> int:
    from kb.maintenance import reindex

    report = reindex(KnowledgeBase(settings))
    _emit(report) if args.json else _err(json.dumps(report))
    return 0


def cmd_crawl(settings: Settings, args) -> int:
    from crawler.run import run_crawl
    from kb.config import SOURCES

    sources = list(SOURCES) if args.source == "all" else [args.source]
    overrides = {}
    if args.max_size:
        overrides["DOWNLOAD_MAXSIZE"] = int(args.max_size * 1024 * 1024)
    if args.topic:
        topic = Path(args.topic)
        if not topic.is_file():
            _err(f"kb crawl: no such topic file: {topic}")
            return 2
        overrides["REFRAIN_TOPIC"] = str(topic.resolve())
    result = run_crawl(settings.home, sources, base_url=args.base_url, since=args.since,
                       overrides=overrides, resume=not args.restart)
    report = {"stored": len(result.stored), "failed": result.failed, "counts": result.counts,
              "resumed": result.resumed, "interrupted": result.interrupted, "log": result.log}
    if not args.no_ingest:
        report.update(ingest_crawled(KnowledgeBase(settings), result))
    if args.json:
        _emit(report)
    else:
        for failure in result.failed:
            _err(f"failed: {failure['url']}: {failure['reason']}")
        _err("crawl: " + ", ".join(f"{n} {outcome}" for outcome, n in result.counts.items()))
        if "ingest" in report:
            _err("ingest: " + ", ".join(f"{n} {status}" for status, n in report["ingest"].items()))
    if result.interrupted:
        _err(f"kb crawl: interrupted ({', '.join(result.interrupted)}); run the same command again to continue")
        return 130
    return 1 if result.failed else 0


def ingest_crawled(kbase: KnowledgeBase, result) -> dict:
    """Ingest what a crawl stored; the sidecar beside each raw file carries its metadata."""
    from kb.ingest import ingest_paths

    paths = sorted({s["path"] for s in result.stored if s.get("path")})
    results = ingest_paths(kbase, paths, progress=_progress)
    return {"ingest": _summary(results), "failures": [r.to_json() for r in results if r.status == "failed"]}


def cmd_serve(settings: Settings, args) -> int:
    from webapp.serve import serve

    serve(settings, host=args.host or settings.host, port=settings.port if args.port is None else args.port)
    return 0


def cmd_demo(settings: Settings, args) -> int:
    from kb.demo import build_demo

    report = build_demo(settings)
    if args.json:
        _emit(report)
    else:
        _err(json.dumps(report["stats"]))
    if args.no_serve:
        return 0
    return cmd_serve(settings, args)


def cmd_eval(settings: Settings, args) -> int:
    from nlp.evaluate import evaluate, format_report

    gold = Path(args.gold)
    if not gold.is_file():
        _err(f"kb eval: no such gold file: {gold}")
        return 2
    root = Path(args.root) if args.root else gold.resolve().parent.parent
    report = evaluate(gold, root)
    if args.json:
        _emit(report)
    else:
        sys.stdout.write(format_report(report) + "\n")
    return 0


def cmd_train_barriers(settings: Settings, args) -> int:
    from kb.barrier_training import DATA_DIR, MODEL_PATH, train

    train(Path(args.data) if args.data else DATA_DIR, Path(args.out) if args.out else MODEL_PATH)
    return 0


def cmd_doctor(settings: Settings, args) -> int:
    from kb.maintenance import doctor

    report = doctor(KnowledgeBase(settings), repair=not args.check)
    _emit(report) if args.json else _err(json.dumps(report))
    return 0 if report.get("healthy", False) else 1


def cmd_lifecycle(settings: Settings, args) -> int:
    from kb.lifecycle import lifecycle

    entries = lifecycle(KnowledgeBase(settings).store)
    if args.json:
        _emit(entries)
        return 0
    for e in entries:
        rec = e["recommendation"]
        label = f"{rec['label']}. " if rec["label"] else ""
        print(f"{rec['published'] or '?'}  {rec['title']}: {label}{' '.join(rec['text'].split())[:160]}")
        for r in e["responses"]:
            target = f", target {r['target_date']}" if r["target_date"] else ""
            print(f"    → {r['published'] or '?'} {r['stance']}{target} ({r['title']})")
    return 0


def cmd_eval_search(settings: Settings, args) -> int:
    from kb.search_eval import evaluate_search, format_search_report

    path = Path(args.judgements)
    if not path.is_file():
        _err(f"kb eval-search: no such judgements file: {path}")
        return 2
    root = Path(args.root) if args.root else path.resolve().parent.parent
    modes = ["hybrid", "keyword", "dense"] if args.mode == "all" else [args.mode]
    kbase = KnowledgeBase(settings)
    if args.snapshot:  # rank as the web server does: any size, since it was asked for
        kbase.snapshots.build_now(min_passages=0)
    report = evaluate_search(kbase, path, root, modes=modes)
    report["snapshot"] = bool(args.snapshot)
    if args.json:
        _emit(report)
    else:
        sys.stdout.write(format_search_report(report) + "\n")
    return 0


def cmd_export(settings: Settings, args) -> int:
    from kb.backup import BackupError, export_kb

    try:
        report = export_kb(settings, args.path)
    except BackupError as exc:
        _err(f"kb export: {exc}")
        return 1
    _emit(report) if args.json else _err(f"exported {report['counts']['documents']} documents, "
                                         f"{report['files']} files, to {report['archive']}")
    return 0


def cmd_import(settings: Settings, args) -> int:
    from kb.backup import BackupError, import_kb

    try:
        report = import_kb(settings, args.path)
    except BackupError as exc:
        _err(f"kb import: {exc}")
        return 1
    _emit(report) if args.json else _err(f"imported {report['counts']['documents']} documents into "
                                         f"{settings.home}; vectors rebuilt: {report['reindex']['vectors']}")
    return 0
