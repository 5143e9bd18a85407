"""The search box's little language: words, "exact phrases" and -exclusions.

Parsing never raises: any text becomes a (possibly empty) ``Query``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_QUERY_CHARS = 500
WORD = re.compile(r"[\w£][\w'’\-]*", re.UNICODE)
STOPWORDS = frozenset(
    "a an and are as at be by for from has have in is it of on or that the this to was were with".split()
)


@dataclass
class Query:
    terms: list[str] = field(default_factory=list)
    phrases: list[str] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.terms or self.phrases)

    def semantic_text(self) -> str:
        """What the embedder sees: the positive words in order, exclusions dropped."""
        return " ".join(self.phrases + self.terms)

    def highlight_terms(self) -> list[str]:
        return self.phrases + [t for t in self.terms if t.lower() not in STOPWORDS]

    def fts_words(self) -> list[str]:
        """The words ranked by BM25: stopwords left out unless they are all there is."""
        return [t for t in self.terms if t.lower() not in STOPWORDS] or list(self.terms)

    def fts(self, drop: frozenset[str] = frozenset()) -> str | None:
        """An FTS5 MATCH expression: phrases required, words ranked (OR), exclusions NOT.

        ``drop``: lower-cased words left out of the ranked OR (search drops words found in
        half the passages or more, which BM25 gives no weight) unless nothing else is left.
        """
        words = self.fts_words()
        positives = [quote(t) for t in words if t.lower() not in drop] or [quote(t) for t in words]
        parts = []
        if self.phrases:
            parts.append(" AND ".join(quote(p) for p in self.phrases))
        if positives:
            parts.append("(" + " OR ".join(positives) + ")")
        if not parts:
            return None
        expr = " AND ".join(parts)
        for word in self.excluded:
            expr += " NOT " + quote(word)
        return expr


def quote(text: str) -> str:
    """An FTS5 phrase of ``text`` (its own double quotes removed)."""
    return '"' + text.replace('"', "") + '"'


def parse_query(text: str) -> Query:
    text = (text or "")[:MAX_QUERY_CHARS]
    query = Query()
    for m in re.finditer(r'(-?)"([^"]*)"', text):
        words = WORD.findall(m.group(2))
        if words:
            (query.excluded if m.group(1) else query.phrases).append(" ".join(words))
    rest = re.sub(r'-?"[^"]*"', " ", text)
    for token in rest.split():
        negative = token.startswith("-")
        words = WORD.findall(token)
        if not words:
            continue
        (query.excluded if negative else query.terms).extend(words)
    return query
