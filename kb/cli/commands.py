"""Every ``kb`` command: read the options, build one object, call it, print its report.

Thin on purpose: the logic lives in ``kb.index``, ``kb.search``, ``kb.analysis``, ``kb.store``,
``crawler.run``, ``demosite`` and ``webapp``. This module and ``kb.cli.app`` are the only ones
that import every stage (the import contract in ``.importlinter`` allows it nowhere else).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from kb.cli.app import IsoDate, Megabytes, Run, Year, command, err, group
from kb.analysis.status import STATUSES
from kb.search.engine import MODES
from kb.store.knowledge import KnowledgeBase
from kb.vocabulary import ALL_SOURCES, DOC_TYPE_EXAMPLES, RECURRENCE_KINDS, SOURCES, THEMES


def _progress(result, n, total) -> None:
    line = f"[{n}/{total}] {result.status:9} {result.path}"
    if result.reason:
        line += f" — {result.reason}"
    if getattr(result, "capped", None):
        line += " — capped (items left out): " + ", ".join(f"{k} {v}" for k, v in result.capped.items())
    err(line)


@command("crawl", help="crawl the publishers' sites and ingest what is new", writes=True)
@click.option("--source", type=click.Choice([*SOURCES, "all"]), default="all")
@click.option("--base-url", help="replace every publisher's host with this URL (fixtures, the demo site)")
@click.option("--since", type=IsoDate(), help="only documents published on or after YYYY-MM-DD")
@click.option("--no-ingest", is_flag=True, help="store raw documents only")
@click.option("--restart", is_flag=True,
              help="start afresh instead of resuming an interrupted crawl with the same options")
@click.option("--max-size", type=Megabytes(), help="refuse files larger than this many megabytes (default 100)")
@click.option("--topic", metavar="TOPIC.json",
              help="what to crawl: queries, organisations, series, date floor (default crawler/data/topic.json)")
def crawl(run: Run, source: str, base_url: str | None, since: str | None, no_ingest: bool, restart: bool,
          max_size: float | None, topic: str | None) -> int:
    from crawler.run import run_crawl
    from kb.index.ingest import ingest_crawled

    overrides = {}
    if max_size:
        overrides["DOWNLOAD_MAXSIZE"] = int(max_size * 1024 * 1024)
    if topic:
        if not Path(topic).is_file():
            err(f"kb crawl: no such topic file: {topic}")
            return 2
        overrides["REFRAIN_TOPIC"] = str(Path(topic).resolve())
    result = run_crawl(run.settings.home, list(SOURCES) if source == "all" else [source], base_url=base_url,
                       since=since, overrides=overrides, resume=not restart)
    report = {"stored": len(result.stored), "failed": result.failed, "refused": result.refused, "counts": result.counts,
              "resumed": result.resumed, "interrupted": result.interrupted, "log": result.log}
    if not no_ingest:
        report.update(ingest_crawled(KnowledgeBase(run.settings), result.stored_paths(), progress=_progress))

    def human() -> None:
        for failure in result.failed:
            err(f"failed: {failure['url']}: {failure['reason']}")
        for refusal in result.refused:
            err(f"refused: {refusal['url']}: {refusal['reason']}")
        err("crawl: " + ", ".join(f"{n} {outcome}" for outcome, n in result.counts.items()))
        if "ingest" in report:
            err("ingest: " + ", ".join(f"{n} {status}" for status, n in report["ingest"].items()))

    run.emit(report, human)
    if result.interrupted:
        err(f"kb crawl: interrupted ({', '.join(result.interrupted)}); run the same command again to continue")
        return 130
    # Refusals alone (robots.txt keeping us out of a folder) are the publisher's wish, not an
    # error; a crawl that robots.txt kept from storing anything at all is one.
    return 1 if result.failed or (result.refused and not result.stored) else 0


@command("ingest", help="ingest files or folders (PDF, HTML, Markdown, text, GOV.UK JSON)", writes=True)
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
def ingest(run: Run, paths: tuple[str, ...]) -> int:
    from kb.index.ingest import IngestResult, ingest_paths, now_iso, summarise

    present = [p for p in paths if Path(p).exists() or Path(p).is_symlink()]  # a broken link says so
    kbase = KnowledgeBase(run.settings)
    results = ingest_paths(kbase, present, progress=_progress)
    for p in (p for p in paths if p not in present):
        reason = "no such file or directory"
        kbase.store.record_failure(p, reason, now_iso())
        err(f"failed    {p} — {reason}")
        results.append(IngestResult(p, "failed", reason=reason))
    summary = summarise(results)
    run.emit({"summary": summary, "results": [r.to_json() for r in results]},
             lambda: err(", ".join(f"{v} {k}" for k, v in summary.items())))
    return 1 if summary["failed"] else 0


@command("extract", help="extract one file without storing anything")
@click.argument("path", metavar="PATH")
def extract(run: Run, path: str) -> int:
    from nlp.extract import extract as extract_document
    from nlp.text import DocumentError, load_document

    try:
        doc = load_document(path)
    except DocumentError as exc:
        err(f"{path}: {exc}")
        return 1
    result = extract_document(doc).to_json()

    def human() -> None:
        d = result["document"]
        print(f"{d['title']} ({d['published'] or 'undated'}, {d['pages'] or 'unpaged'})")
        for key in ("barriers", "recommendations", "funding", "responses"):
            print(f"  {key}: {len(result[key])}")

    run.emit(result, human)
    return 0


@command("search", help="hybrid keyword + semantic search over passages")
@click.argument("query", metavar="QUERY")
@click.option("-k", "k", type=int, default=10, help="number of hits (1-100)")
@click.option("--theme", type=click.Choice(THEMES))
@click.option("--source")
@click.option("--from", "year_from", type=Year())
@click.option("--to", "year_to", type=Year())
@click.option("--type", "doc_type", help=f"document type, e.g. {DOC_TYPE_EXAMPLES[-1]}")
@click.option("--mode", type=click.Choice(MODES), default="hybrid")
@click.option("--by-document", is_flag=True, help="group hits by document: k documents, each with its best passages")
@click.option("--per-doc", "per_doc", type=click.IntRange(1, 100),
              help="at most N passages from any one document (with --by-document: passages shown per document, "
                   "default 3)")
@click.option("--total", "with_total", is_flag=True,
              help="also count every matching passage: with --json, an object {query, total, total_is_exact, "
                   "results} instead of the bare list")
def search(run: Run, query: str, k: int, theme: str | None, source: str | None, year_from: int | None,
           year_to: int | None, doc_type: str | None, mode: str, by_document: bool, per_doc: int | None,
           with_total: bool) -> int:
    from kb.search.engine import Filters, search as search_passages, search_capped, search_documents
    from kb.search.query import parse_query
    from kb.search.relevance import match_set

    if not 1 <= k <= 100:
        err("kb search: -k must be between 1 and 100")
        return 2
    kbase = KnowledgeBase(run.settings)
    filters = Filters(theme=theme, source=source, year_from=year_from, year_to=year_to, doc_type=doc_type)
    if by_document:
        docs = search_documents(kbase, query, k=k, filters=filters, mode=mode, per_document=per_doc or 3)
        results, show = docs, lambda: _print_documents(docs)
    else:
        hits = (search_capped(kbase, query, k=k, filters=filters, mode=mode, per_document=per_doc) if per_doc
                else search_passages(kbase, query, k=k, filters=filters, mode=mode))
        results, show = [h.to_json() for h in hits], lambda: _print_hits(hits)
    if not with_total:
        run.emit(results, show)
        return 0
    matches = match_set(kbase, parse_query(query), mode=mode)
    matches.add(kbase.store.conn, [h["passage_id"] for h in results] if not by_document
                else [p["passage_id"] for d in results for p in d["passages"]])
    total = matches.total(filters)
    run.emit({"query": query, "total": total, "total_is_exact": matches.exact, "results": results},
             lambda: (show(), print(f"{'at least ' if not matches.exact else ''}{total} matching passages")))
    return 0


def _print_documents(docs: list[dict]) -> None:
    for n, d in enumerate(docs, 1):
        print(f"{n}. {d['title']} ({d['source']}, {d['published'] or 'undated'})  {d['hits']} passages")
        print(f"   {d['url']}")
        for p in d["passages"]:
            page = f"{p['cite_page']}: " if p.get("cite_page") else ""
            print(f"   - {page}{' '.join(p['text'].split())[:200]}")


def _print_hits(hits) -> None:
    if not hits:
        print("no results")
    for n, h in enumerate(hits, 1):
        page = f", {h.cite_page}" if h.cite_page else ""
        print(f"{n}. {h.title} ({h.source}, {h.published or 'undated'}{page})  score {h.score:.4f}")
        print(f"   {h.url}")
        snippet = " ".join(h.text.split())
        print(f"   {snippet[:300]}{'…' if len(snippet) > 300 else ''}")


@command("recurrences", help="findings and recommendations that make the same point again, across documents and years")
@click.option("--min-years", type=int, default=1,
              help="only groups made in at least N different years (default 1: every group, as /recurrences shows)")
@click.option("--kind", type=click.Choice(RECURRENCE_KINDS), default="all",
              help="recommendations, findings (barrier sentences) or both")
def recurrences(run: Run, min_years: int, kind: str) -> int:
    from kb.analysis.recurrence import recurrences as recurrence_groups

    groups = recurrence_groups(KnowledgeBase(run.settings).store, min_years=min_years,
                               kind=None if kind == "all" else kind)

    def human() -> None:
        for g in groups:
            print(f"[{g['kind']}] {g['label']}  [{', '.join(map(str, g['years']))}]  "
                  f"({g['count']} occurrences, id {g['id']})")
            for o in g["occurrences"]:
                page = f" p. {o['page']}" if o["page"] else ""
                print(f"   {o['published'] or '?'}  {o['title']}{page}")

    run.emit(groups, human)
    return 0


@command("serve", help="serve the web app with a production WSGI server", json_output=False)
@click.option("--host")
@click.option("--port", type=int)
def serve(run: Run, host: str | None, port: int | None) -> int:
    from webapp.serve import serve as serve_app

    serve_app(run.settings, host=host or run.settings.host, port=run.settings.port if port is None else port)
    return 0


@command("stats", help="counts of documents and extractions")
def stats(run: Run) -> int:
    counts = KnowledgeBase(run.settings).store.stats()
    run.emit(counts, lambda: [print(f"{key}: {value}") for key, value in counts.items()])
    return 0


@command("failures", help="files that could not be ingested, with reasons")
def failures(run: Run) -> int:
    rows = KnowledgeBase(run.settings).store.failures()
    run.emit(rows, lambda: [print(f"{r['at']}  {r['path']}: {r['reason']}") for r in rows])
    return 0


@command("reindex", help="rebuild Chroma and the recurrence groups from SQLite", writes=True)
def reindex(run: Run) -> int:
    from kb.index.maintenance import reindex as rebuild

    report = rebuild(KnowledgeBase(run.settings))
    run.emit(report, lambda: err(json.dumps(report)))
    return 0


@command("doctor", help="compare SQLite with Chroma and repair missing or orphan vectors", writes=True)
@click.option("--check", is_flag=True, help="report only, repair nothing")
def doctor(run: Run, check: bool) -> int:
    from kb.index.maintenance import doctor as examine

    report = examine(KnowledgeBase(run.settings), repair=not check)
    run.emit(report, lambda: err(json.dumps(report)))
    return 0 if report.get("healthy", False) else 1


@command("export", help="write the knowledge base to one portable archive (.tar.gz)")
@click.argument("path", metavar="PATH")
def export(run: Run, path: str) -> int:
    from kb.index.backup import BackupError, export_kb

    try:
        report = export_kb(run.settings, path)
    except BackupError as exc:
        err(f"kb export: {exc}")
        return 1
    run.emit(report, lambda: err(f"exported {report['counts']['documents']} documents, "
                                 f"{report['files']} files, to {report['archive']}"))
    return 0


@command("import", help="restore an archive made by `kb export` into an empty $KB_HOME")
@click.argument("path", metavar="PATH")
def import_(run: Run, path: str) -> int:
    from kb.index.backup import BackupError, import_kb

    try:
        report = import_kb(run.settings, path)
    except BackupError as exc:
        err(f"kb import: {exc}")
        return 1
    run.emit(report, lambda: err(f"imported {report['counts']['documents']} documents into "
                                 f"{run.settings.home}; vectors rebuilt: {report['reindex']['vectors']}"))
    return 0


@command("lifecycle", help="recommendations with the government responses linked to them")
def lifecycle(run: Run) -> int:
    from kb.analysis.lifecycle import lifecycle as linked

    entries = linked(KnowledgeBase(run.settings).store)

    def human() -> None:
        for e in entries:
            rec = e["recommendation"]
            label = f"{rec['label']}. " if rec["label"] else ""
            print(f"{rec['published'] or '?'}  {rec['title']}: {label}{' '.join(rec['text'].split())[:160]}")
            for r in e["responses"]:
                target = f", target {r['target_date']}" if r["target_date"] else ""
                print(f"    → {r['published'] or '?'} {r['stance']}{target} ({r['title']})")

    run.emit(entries, human)
    return 0


@command("eval-search", help="score search against relevance judgements (nDCG@10, recall@10)")
@click.argument("judgements", metavar="JUDGEMENTS.json")
@click.option("--root", help="folder the judged paths are relative to (default: the file's parent's parent)")
@click.option("--mode", type=click.Choice([*MODES, "all"]), default="all")
@click.option("--snapshot", is_flag=True,
              help="search through the in-memory snapshot the web server keeps (kb/store/snapshot.py)")
def eval_search(run: Run, judgements: str, root: str | None, mode: str, snapshot: bool) -> int:
    from kb.search.evaluate import evaluate_search, format_search_report

    path = Path(judgements)
    if not path.is_file():
        err(f"kb eval-search: no such judgements file: {path}")
        return 2
    kbase = KnowledgeBase(run.settings)
    if snapshot:  # rank as the web server does: any size, since it was asked for
        kbase.snapshots.build_now(min_passages=0)
    report = evaluate_search(kbase, path, Path(root) if root else path.resolve().parent.parent,
                             modes=list(MODES) if mode == "all" else [mode])
    report["snapshot"] = snapshot
    run.emit(report, lambda: sys.stdout.write(format_search_report(report) + "\n"))
    return 0


@command("eval-recurrence", help="score recurrence groups against judged groups (pair precision/recall)")
@click.argument("judged", metavar="JUDGED.json")
@click.option("--root", help="folder the judged paths are relative to (default: the file's parent's parent)")
def eval_recurrence(run: Run, judged: str, root: str | None) -> int:
    from kb.analysis.recurrence_eval import evaluate_recurrence, format_recurrence_report

    path = Path(judged)
    if not path.is_file():
        err(f"kb eval-recurrence: no such judged file: {path}")
        return 2
    report = evaluate_recurrence(KnowledgeBase(run.settings).store, path, root)
    run.emit(report, lambda: sys.stdout.write(format_recurrence_report(report) + "\n"))
    return 0


@command("train-barriers", help="train the barrier classifier from the labelled sentences")
@click.option("--data", help="labelled data folder (default nlp/data/barrier_training)")
@click.option("--out", help="model file to write (default nlp/data/barrier_model.npz, or in $KB_BARRIER_DIR when "
                            "set; with --tuned barrier_tuned.npz)")
@click.option("--tuned", is_flag=True, help="fine-tune MiniLM's top layers instead (torch, ~10 CPU minutes with two)")
@click.option("--epochs", type=click.IntRange(1, 50), default=4, show_default=True,
              help="with --tuned: training epochs")
@click.option("--layers", type=click.IntRange(1, 4),
              help="with --tuned: how many of MiniLM's top layers to train (default 2; layers 0-1 stay "
                   "the packaged ones: their int8 graph keeps float feed-forward outputs)")
def train_barriers(run: Run, data: str | None, out: str | None, tuned: bool = False, epochs: int = 4,
                   layers: int | None = None) -> int:
    from nlp.barrier_training import DATA_DIR, MODEL_PATH, train

    def target(packaged: Path) -> Path:
        """--out, else the artefact's name in $KB_BARRIER_DIR, else the packaged file."""
        folder = run.settings.barrier_dir
        return Path(out) if out else folder / packaged.name if folder else packaged

    if tuned:
        from nlp.barrier_finetune import LAYERS, Recipe
        from nlp.barrier_tuned import TUNED_PATH
        from nlp.barrier_tuned_training import train_tuned

        train_tuned(Path(data) if data else DATA_DIR, target(TUNED_PATH),
                    recipe=Recipe(layers=layers or LAYERS, epochs=epochs),
                    progress=err)
        return 0
    train(Path(data) if data else DATA_DIR, target(MODEL_PATH))
    return 0


@command("demo", help="build the demo site, crawl it, ingest it, serve the app")
@click.option("--no-serve", is_flag=True, help="stop after ingesting")
@click.option("--host")
@click.option("--port", type=int)
@click.pass_context
def demo(ctx: click.Context, run: Run, no_serve: bool, host: str | None, port: int | None) -> int:
    from demosite.demo import build_demo

    report = build_demo(run.settings, progress=_progress)
    run.emit(report, lambda: err(json.dumps(report["stats"])))
    if no_serve:
        return 0
    return ctx.invoke(serve, host=host, port=port)


@command("eval", help="score extraction against a gold file")
@click.argument("gold", metavar="GOLD.json")
@click.option("--root", help="folder the gold paths are relative to (default: the gold file's parent's parent)")
def evaluate(run: Run, gold: str, root: str | None) -> int:
    from nlp.evaluate import evaluate as score, format_report

    path = Path(gold)
    if not path.is_file():
        err(f"kb eval: no such gold file: {path}")
        return 2
    report = score(path, Path(root) if root else path.resolve().parent.parent)
    run.emit(report, lambda: sys.stdout.write(format_report(report) + "\n"))
    return 0


@command("status", help="what happened to each recommendation: its status, the evidence and the history")
@click.option("--status", "status", type=click.Choice(STATUSES), help="only recommendations with this status")
@click.option("--actor", help="only recommendations addressed to this actor (an id from /actors, e.g. dhsc)")
@click.option("--today", type=IsoDate(), help="judge target dates as of this day (default $KB_TODAY or today)")
def status(run: Run, status: str | None, actor: str | None, today: str | None) -> int:
    from datetime import date

    from kb.analysis.actors import Actors
    from kb.analysis.status import StatusQuery, recommendation_statuses, select

    settings = run.settings
    statuses = recommendation_statuses(KnowledgeBase(settings).store, Actors(settings.actors_path),
                                       date.fromisoformat(today) if today else settings.today_date())
    shown = select(statuses, StatusQuery(status=status, actor=actor))

    def human() -> None:
        from kb.analysis.documents import page_label
        from nlp.page_labels import cite_page

        store = KnowledgeBase(settings).store
        for s in shown:
            label = f"{s.label}. " if s.label else ""
            print(f"{s.status:26} {s.published or '?'}  {s.title}: {label}{' '.join(s.text.split())[:120]}")
            ev = s.evidence
            if ev:
                page = f", {cite_page(ev.page, page_label(store, ev.doc_id, ev.page))}" if ev.page else ""
                print(f"{'':26} ← {ev.date or '?'} {ev.title or ev.doc_id}"
                      f"{page}: {' '.join(ev.sentence.split())[:120]}")

    run.emit([s.to_json() for s in shown], human)
    return 0


watch = group("watch", help="follow a search: saved searches that `kb alerts` reports on")


@command("add", help="save a search to follow", parent=watch)
@click.argument("query", metavar="QUERY")
@click.option("--theme", type=click.Choice(THEMES))
@click.option("--source", type=click.Choice(ALL_SOURCES))
def watch_add(run: Run, query: str, theme: str | None, source: str | None) -> int:
    from kb.analysis.watches import add_watch
    from kb.search.query import parse_query

    if parse_query(query).empty:
        err("kb watch add: the query has no words to search for")
        return 2
    w = add_watch(KnowledgeBase(run.settings).store, query, theme, source)
    run.emit(w.to_json(), lambda: print(f"watch {w.id}: {w.query}"))
    return 0


@command("list", help="the saved searches", parent=watch)
def watch_list(run: Run) -> int:
    from kb.analysis.watches import list_watches

    rows = list_watches(KnowledgeBase(run.settings).store)
    run.emit([w.to_json() for w in rows], lambda: [print(
        f"{w.id}  {w.query}" + (f"  theme={w.theme}" if w.theme else "") + (f"  source={w.source}" if w.source else "")
        + f"  (checked {w.checked_at})") for w in rows])
    return 0


@command("remove", help="stop following a saved search", parent=watch)
@click.argument("watch_id", metavar="ID", type=int)
def watch_remove(run: Run, watch_id: int) -> int:
    from kb.analysis.watches import remove_watch

    if not remove_watch(KnowledgeBase(run.settings).store, watch_id):
        err(f"kb watch remove: no watch with id {watch_id}")
        return 1
    run.emit({"removed": watch_id}, lambda: print(f"removed watch {watch_id}"))
    return 0


@command("alerts", help="what is new for each saved search since it was last checked (or --since)")
@click.option("--since", type=IsoDate(), help="list what was ingested on or after YYYY-MM-DD (checks nothing off)")
def alerts(run: Run, since: str | None) -> int:
    from kb.analysis.watches import alerts as new_for_watches

    report = new_for_watches(KnowledgeBase(run.settings), since=since)

    def human() -> None:
        for a in report:
            print(f"watch {a['watch']['id']}: {a['watch']['query']} — {len(a['new'])} new since {a['since']}")
            for h in a["new"]:
                page = f", p. {h['page']}" if h["page"] else ""
                print(f"   {h['published'] or '?'}  {h['title']}{page}")

    run.emit(report, human)
    return 0
