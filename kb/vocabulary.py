"""Every controlled vocabulary, from one place: CLI choices, web parameters, OpenAPI enums and
charts all read these names. Themes, funding kinds, stances and actors (who recommendations ask
to act, with their aliases) come from nlp's data files;
sources from the crawler's record of what it crawls."""
from __future__ import annotations

from crawler.records import SOURCES
from nlp.vocabulary import FUNDING_KINDS, STANCES, THEMES, actors as actor_vocabulary

LOCAL_SOURCE = "local"  # documents ingested from local files rather than crawled
ALL_SOURCES = (*SOURCES, LOCAL_SOURCE)

__all__ = ["ALL_SOURCES", "FUNDING_KINDS", "LOCAL_SOURCE", "SOURCES", "STANCES", "THEMES", "actor_vocabulary"]
