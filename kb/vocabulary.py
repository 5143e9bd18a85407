"""Every controlled vocabulary, from one place: CLI choices, web parameters, OpenAPI enums and
charts all read these names. Themes, funding kinds, stances and actors (who recommendations ask
to act, with their aliases) come from nlp's data files;
sources from the crawler's record of what it crawls. Document types are the publishers' own
(GOV.UK alone has dozens, and a topic file may ask for more), so they are an open set: what is
fixed is the shape of a type name, and the types stored are listed from the knowledge base."""
from __future__ import annotations

from crawler.records import SOURCES
from nlp.vocabulary import FUNDING_KINDS, STANCES, THEMES, actors as actor_vocabulary

LOCAL_SOURCE = "local"  # documents ingested from local files rather than crawled
ALL_SOURCES = (*SOURCES, LOCAL_SOURCE)

# Which recurring items a listing shows: recommendations, findings (barrier sentences) or both.
RECURRENCE_KINDS = ("recommendation", "finding", "all")

# A document type: a word the publisher or a spider gives (``report``, ``policy_paper``, ...).
DOC_TYPE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9 _\-]{0,63}$"
DOC_TYPE_EXAMPLES = ("report", "policy_paper")

__all__ = ["ALL_SOURCES", "DOC_TYPE_EXAMPLES", "DOC_TYPE_PATTERN", "FUNDING_KINDS", "LOCAL_SOURCE",
           "RECURRENCE_KINDS", "SOURCES", "STANCES", "THEMES", "actor_vocabulary"]
