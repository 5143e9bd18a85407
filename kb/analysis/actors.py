"""Who is asked to act: 'Department of Health', 'DH', 'DHSC', 'the Department' → one actor.

Aliases come from the one actor vocabulary (``nlp/data/actors.json``, extended by
``$KB_HOME/actors.json``, read by ``kb.vocabulary.actor_vocabulary``). A recommendation's actor
is looked for first in the subject the extractor found ('The Department and NHS England'),
then in its text; every actor named is kept, in order, and the first is the one it addresses.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from kb.vocabulary import actor_vocabulary


@dataclass
class Actor:
    id: str
    name: str
    names: list[dict]
    aliases: list[str]

    def name_at(self, published: str | None) -> str:
        """The name the body had on that date (the Department of Health before 2018...)."""
        for n in self.names:
            if published and (n.get("from") or "") <= published[:10] <= (n.get("until") or "9999"):
                return n["name"]
        return self.name


class Actors:
    """The actor vocabulary, compiled once: one regex over every alias, longest first."""

    def __init__(self, extra: Path | None = None):
        self.by_id = {a["id"]: Actor(a["id"], a["name"], a.get("names", []), a.get("aliases", []))
                      for a in actor_vocabulary(extra)}
        pairs = sorted(((alias, a.id) for a in self.by_id.values() for alias in a.aliases),
                       key=lambda p: -len(p[0]))
        self._owner = {alias.lower(): aid for alias, aid in pairs if not alias.isupper()}
        self._acronym = {alias: aid for alias, aid in pairs if alias.isupper()}
        words = "|".join(re.escape(alias) for alias, _ in pairs)
        # Acronyms ('DH', 'ICB') match in capitals only; names in any case; '&' reads as 'and'.
        self._pattern = re.compile(rf"(?<![\w-])(?:{words})(?![\w-])", re.I)

    def _id_of(self, matched: str) -> str | None:
        if matched in self._acronym:
            return self._acronym[matched]
        return self._owner.get(matched.lower())

    def find(self, subject: str | None, text: str, published: str | None = None) -> list[str]:
        """Actor ids named by ``subject`` (else by ``text``), in order of mention."""
        for where in (subject, text):
            found: list[str] = []
            for m in self._pattern.finditer((where or "").replace("&", "and")):
                aid = self._id_of(m.group(0))
                if aid and aid not in found:
                    found.append(aid)
            if found:
                return found
        return []

    def get(self, actor_id: str) -> Actor | None:
        return self.by_id.get(actor_id)
