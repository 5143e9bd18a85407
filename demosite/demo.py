"""``kb demo``: the whole pipeline on our own demo site, end to end, on loopback.

Build the site (PDFs rendered from text), serve it on a free 127.0.0.1 port, run the same
spiders as for the live sites with the base URL overridden, then ingest what they stored.
Everything is keyed by content hash, so a second run finds every document unchanged.
"""
from __future__ import annotations

import logging
from typing import Callable

from kb.config import SAMPLES_DIR, Settings
from kb.vocabulary import SOURCES
from kb.store.knowledge import KnowledgeBase

log = logging.getLogger(__name__)

# The default topic, narrowed to the series our demo site publishes, so the demo crawl is clean.
DEMO_TOPIC = SAMPLES_DIR / "topic.json"


def build_demo(settings: Settings, progress: Callable | None = None) -> dict:
    """Build and serve the site, crawl it, ingest what was stored; the report ``kb demo`` prints."""
    from crawler.run import run_crawl
    from demosite.site import build_site, serve_site
    from kb.index.ingest import ingest_crawled

    site = build_site(settings.home / "demo-site")
    with serve_site(site) as base_url:
        log.info("demo site at %s", base_url)
        result = run_crawl(settings.home, list(SOURCES), base_url=base_url,
                           overrides={"REFRAIN_TOPIC": str(DEMO_TOPIC)})
    kbase = KnowledgeBase(settings)
    report = {"crawl": {"stored": len(result.stored), "failed": result.failed}}
    report.update(ingest_crawled(kbase, result.stored_paths(), progress=progress))
    report["stats"] = kbase.store.stats()
    return report
