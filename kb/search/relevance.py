"""Which passages *match* a query, so totals, facets and "no results" tell the truth.

Hybrid search fuses a keyword ranking (BM25 over an OR of the words) with a dense one; the
dense ranking always returns its nearest passages, however far, so every query — even a
nonsense word — used to "find" a full window of 100. Here a passage matches when

- it holds the query's words (a keyword match, porter-stemmed as the FTS index is): all of up
  to three words, two in three of a longer, sentence-like query (``required_words``); every
  "exact phrase"; no -excluded word; or
- its meaning is close to the query (never in keyword mode): cosine similarity of its vector
  with the query's at least ``DENSE_FLOOR`` when it shares a word with the query, at least
  ``DENSE_FLOOR_NO_WORD`` when it shares none (``close_enough``).

Passages that only share a word or two (an OR hit on "care" for "Better Care Fund") and are not
close in meaning are not matches, and are cut from the ranking too. Keyword mode keeps its OR
semantics: its hits each hold a word, and its total counts them.

The floors were calibrated on the 34-document knowledge base built from ``../shared/corpus``
and the seeds (all-MiniLM-L6-v2, bf16): 14 nonsense or off-topic queries ("xyzzyplugh",
"lorem ipsum dolor sit amet", "xkcd", "quantum chromodynamics", ...) reach at most 0.36 with
any passage (0.40 for "Manchester United transfer"), topical ones 0.56–0.70; and at these floors
``bench/search_judgements.json`` scores hybrid nDCG@10 0.9183 against 0.9184 with no cut (a single
floor of 0.40 cost 0.006 nDCG and 0.019 recall). The README's "What counts as a match" has
the numbers.

``match_set`` collects the matches of a query over the whole knowledge base (not a window),
with each match's source, year, type, themes and document, so a total and every facet count
are computed over one and the same set, under the same filters as the results.
"""
from __future__ import annotations

import re
import sqlite3
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from kb.search.query import Query, quote
from kb.store.knowledge import KnowledgeBase
from kb.store.vectors import PASSAGES

DENSE_FLOOR = 0.35  # a passage sharing at least one word with the query
DENSE_FLOOR_NO_WORD = 0.42  # a passage sharing none (all a nonsense word could ever reach)
DENSE_COUNT_LIMIT = 2000   # nearest passages examined to count semantic matches
KEYWORD_COUNT_LIMIT = 50_000  # keyword matches read to count them; past this a total is a lower bound
FACETS = ("source", "theme", "year", "doc_type")


def required_words(n: int) -> int:
    """How many of a query's ``n`` words a keyword match must hold: all of up to three words
    ("Better Care Fund" must not match every passage saying "care"); of a longer, sentence-like
    query ("GP workload, burnout and access to general practice") two in three, as a relevant
    passage rarely repeats a whole question."""
    return n if n <= 3 else n - n // 3


def _fts_rows(conn: sqlite3.Connection, expr: str, within: list[int] | None, limit: int) -> set[int]:
    """Rowids matching one FTS5 expression (``within`` those rowids when given)."""
    sql, args = "SELECT rowid FROM passages_fts WHERE passages_fts MATCH ?", [expr]
    if within is not None:
        sql += f" AND rowid IN ({','.join('?' * len(within))})"
        args += within
    try:
        return {r[0] for r in conn.execute(sql + " LIMIT ?", [*args, limit])}
    except sqlite3.OperationalError:  # an FTS syntax corner case: nothing holds it
        return set()


def _holding(conn: sqlite3.Connection, expr: str, within: list[int] | None, limit: int) -> set[int]:
    """``_fts_rows``, faster for a few hundred ``within``: FTS5 answers ``rowid IN (...)`` one
    rowid at a time (~50 ms for 400), so read the word's whole posting list when it is not long."""
    if within is None:
        return _fts_rows(conn, expr, None, limit)
    rows = _fts_rows(conn, expr, None, KEYWORD_COUNT_LIMIT + 1)
    if len(rows) > KEYWORD_COUNT_LIMIT:
        return _fts_rows(conn, expr, within, limit)
    return rows & set(within)


def _word_rowids(conn: sqlite3.Connection, query: Query, within: list[int] | None, limit: int):
    """Per query word, the rowids holding it (``within`` those rowids when given); and the
    rowids holding every phrase and no excluded word (None: no such condition)."""
    words = {w.lower(): _holding(conn, quote(w), within, limit) for w in query.fts_words()}
    must = None
    if query.phrases or query.excluded:
        if query.phrases:
            must = _fts_rows(conn, " AND ".join(quote(p) for p in query.phrases), within, limit)
        else:  # exclusions alone: every rowid considered, minus the excluded
            must = set().union(*words.values()) if words else set(within or ())
        for word in query.excluded:
            must -= _fts_rows(conn, quote(word), within, limit)
    return words, must


def keyword_rowids(conn: sqlite3.Connection, query: Query, within: list[int] | None = None,
                   limit: int = KEYWORD_COUNT_LIMIT, some: set[int] | None = None) -> tuple[set[int], bool]:
    """Rowids of keyword matches (``within`` those when given), and whether a limit cut the
    count. ``some``, when given, receives the rowids holding at least one of the words."""
    words, must = _word_rowids(conn, query, within, limit + 1)
    cut = any(len(r) > limit for r in words.values()) or (must is not None and len(must) > limit)
    if some is not None:
        some.update(*words.values())
    if words:
        need = required_words(len(words))
        held = Counter(r for rowids in words.values() for r in rowids)
        found = {r for r, n in held.items() if n >= need}
        if must is not None:
            found &= must
    else:
        found = must or set()
    return found, cut


def keyword_matches(conn: sqlite3.Connection, query: Query, ids: list[str],
                    some: set[str] | None = None, obeying: set[str] | None = None) -> set[str]:
    """Which of ``ids`` are keyword matches. ``some`` receives those holding any of the words;
    ``obeying`` those holding every phrase and no excluded word (a semantic match must too)."""
    if not ids or query.empty:
        return set()
    found: set[str] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        rowid_of = dict(conn.execute(f"SELECT rowid, id FROM passages WHERE id IN ({','.join('?' * len(chunk))})",
                                     chunk).fetchall())
        words, must = _word_rowids(conn, query, list(rowid_of), len(chunk) + 1)
        held = Counter(r for rowids in words.values() for r in rowids)
        rows = {r for r, n in held.items() if n >= required_words(len(words))} if words else set(rowid_of)
        if must is not None:
            rows &= must
        found.update(rowid_of[r] for r in rows)
        if some is not None:
            some.update(rowid_of[r] for r in held)
        if obeying is not None:
            obeying.update(rowid_of[r] for r in (must if must is not None else rowid_of))
    return found


def close_enough(similarity: float, shares_word: bool, floor: float = DENSE_FLOOR) -> bool:
    """The relevance floor: a passage sharing none of the query's words must be closer in
    meaning than one that shares some, so a nonsense word matches nothing."""
    return similarity >= (floor if shares_word else max(floor, DENSE_FLOOR_NO_WORD))


def similarities(kbase: KnowledgeBase, vector: np.ndarray, ids: list[str]) -> dict[str, float]:
    """Cosine similarity of each passage of ``ids`` with the query vector, from the vectors
    cached at ingest (normalised, so a dot product); a passage with no cached vector is left out."""
    if not ids:
        return {}
    conn = kbase.store.conn
    texts: dict[str, str] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        texts.update(conn.execute(f"SELECT id, text FROM passages WHERE id IN ({marks})", chunk).fetchall())
    keys = {pid: kbase.key(text) for pid, text in texts.items()}
    cache = kbase.store.cached_vectors(list(set(keys.values())))
    vector = np.asarray(vector, dtype=np.float32)
    return {pid: float(cache[key] @ vector) for pid, key in keys.items() if key in cache}


def query_vector(kbase: KnowledgeBase, query: Query) -> np.ndarray:
    """The query's embedding (through the knowledge base's cache: the ranking embedded it already)."""
    return kbase.embed_query(query.semantic_text())


def relevant_ids(kbase: KnowledgeBase, query: Query, ids: list[str], mode: str = "hybrid",
                 floor: float = DENSE_FLOOR, vector: np.ndarray | None = None,
                 held: tuple | None = None) -> set[str]:
    """The ids (of a ranking) that match: keyword matches, and in hybrid or dense mode the
    passages close enough in meaning (``close_enough``). Keyword mode keeps its OR ranking
    whole: every hit there holds some of the words, and its total counts those. ``vector``:
    the query's embedding when the caller has it (a read-only server caches none, so asking
    again would embed the query a second time). ``held``: (snapshot, {word or phrase: sorted
    positions of the rows holding it}) from the same search's ranking; used only while that
    snapshot is still the current one."""
    if mode == "keyword":
        return set(ids)
    snap = kbase.snapshot()
    if snap is not None:  # the web server's in-memory index: the same rule in numpy
        found = held[1] if held is not None and held[0] is snap else None
        return _relevant_in_snapshot(kbase, snap, query, ids, mode, floor, vector, found)
    shared: set[str] = set()
    obeying: set[str] = set()
    found = keyword_matches(kbase.store.conn, query, ids, some=shared, obeying=obeying)
    keep = set() if mode == "dense" else found
    rest = [pid for pid in ids if pid not in keep and pid in obeying]
    if rest:
        sims = similarities(kbase, query_vector(kbase, query) if vector is None else vector, rest)
        keep.update(pid for pid, s in sims.items() if close_enough(s, pid in shared, floor))
    return keep


def _relevant_in_snapshot(kbase: KnowledgeBase, snap, query: Query, ids: list[str], mode: str,
                          floor: float, vector: np.ndarray | None = None,
                          found: dict[str, np.ndarray] | None = None) -> set[str]:
    """``relevant_ids`` over the snapshot (``kb/store/snapshot.py``): word postings and vectors
    in memory, so the check costs a few ms instead of one FTS5 query per word. ``found``: the
    sorted positions of the rows holding a multi-token word or phrase, where the ranking had them."""
    from kb.store.snapshot import holds, tokens_of

    found = found or {}

    known = [pid for pid in ids if pid in snap.pos_of]
    pos = np.fromiter((snap.pos_of[pid] for pid in known), dtype=np.int64, count=len(known))
    words = list(dict.fromkeys(w.lower() for w in query.fts_words()))
    held = np.zeros(len(known), dtype=np.int32)
    conn = kbase.store.conn
    for word in words:
        tokens = tokens_of(word)
        if len(tokens) == 1:
            held += snap.holding(tokens[0], pos)
        elif word in found:  # several tokens ('covid-19'), placed by this search's ranking
            held += holds(found[word], pos)
        else:  # several tokens: FTS5 knows where they stand together
            rowids, _ = keyword_rowids(conn, Query(phrases=[word]), snap.rowids[pos].tolist(), limit=len(pos))
            held += np.isin(snap.rowids[pos], np.fromiter(rowids, dtype=np.int64, count=len(rowids)))
    keyword = held >= required_words(len(words)) if words else np.ones(len(pos), dtype=bool)
    ok = np.ones(len(pos), dtype=bool)  # rare: FTS5 checks phrases and exclusions on these rows
    cand = snap.rowids[pos]
    unplaced = []  # phrases the ranking did not place: FTS5 checks them
    for phrase in query.phrases:
        placed = found.get(phrase.lower())
        if placed is None:
            unplaced.append(phrase)
        else:
            ok &= holds(placed, pos)
    if unplaced:
        rows = _fts_rows(conn, " AND ".join(quote(p) for p in unplaced), cand.tolist(), len(pos) + 1)
        ok &= np.isin(cand, np.fromiter(rows, dtype=np.int64, count=len(rows)))
    for word in query.excluded:
        placed = found.get(word.lower())
        if placed is not None:
            ok &= ~holds(placed, pos)
            continue
        rows = _fts_rows(conn, quote(word), cand.tolist(), len(pos) + 1)
        ok &= ~np.isin(cand, np.fromiter(rows, dtype=np.int64, count=len(rows)))
    keyword &= ok
    sims = snap.similarities(query_vector(kbase, query) if vector is None else vector, pos)
    need = np.where(held > 0, floor, max(floor, DENSE_FLOOR_NO_WORD))
    close = snap.has_vector[pos] & (sims >= need) & ok
    keep = close if mode == "dense" else (keyword | close)
    return {pid for pid, k in zip(known, keep) if k}


# --- the match set: totals and facets -------------------------------------------------------


@dataclass(frozen=True)
class Match:
    """One matching passage's facts that filters and facets look at."""

    doc_id: str
    source: str
    year: int | None
    doc_type: str | None
    themes: tuple[str, ...]
    rowid: int = 0  # the passage's place in its document (passages are stored in order)


@dataclass
class MatchSet:
    """Every passage matching a query (before filters), keyed by passage id.

    ``exact`` is False when counting stopped at a limit (then totals are lower bounds)."""

    matches: dict[str, Match] = field(default_factory=dict)
    exact: bool = True

    def passing(self, filters, skip: str | None = None) -> list[tuple[str, Match]]:
        """Matches passing ``filters`` (a ``kb.search.engine.Filters``), ignoring the facet ``skip``."""
        return [(pid, m) for pid, m in self.matches.items() if _passes(m, filters, skip)]

    def total(self, filters) -> int:
        return len(self.passing(filters))

    def per_document(self, filters) -> Counter:
        """How many matching passages each document holds, under ``filters``."""
        return Counter(m.doc_id for _, m in self.passing(filters))

    def facets(self, filters) -> dict[str, Counter]:
        """Counts per facet value. Each facet is counted under every filter but its own, so a
        value's count is exactly the total its link (that filter added or swapped) will show."""
        counts: dict[str, Counter] = {}
        for facet in FACETS:
            counter: Counter = Counter()
            for _, m in self.passing(filters, skip=facet):
                if facet == "source":
                    counter[m.source] += 1
                elif facet == "theme":
                    counter.update(set(m.themes))
                elif facet == "year":
                    if m.year is not None:
                        counter[str(m.year)] += 1
                elif m.doc_type:
                    counter[m.doc_type] += 1
            counts[facet] = counter
        return counts

    def add(self, conn: sqlite3.Connection, ids: list[str]) -> None:
        """Add passages known to match (hits of the ranking the count's limits missed)."""
        new = [pid for pid in ids if pid not in self.matches]
        self.matches.update(_facts(conn, new))


def _passes(m: Match, filters, skip: str | None) -> bool:
    if filters.theme and skip != "theme" and filters.theme not in m.themes:
        return False
    if filters.source and skip != "source" and m.source != filters.source:
        return False
    if filters.doc_type and skip != "doc_type" and m.doc_type != filters.doc_type:
        return False
    if getattr(filters, "doc_id", None) and m.doc_id != filters.doc_id:
        return False
    if skip != "year":
        if filters.year_from is not None and (m.year is None or m.year < filters.year_from):
            return False
        if filters.year_to is not None and (m.year is None or m.year > filters.year_to):
            return False
    return True


_FACTS = """SELECT p.id, p.doc_id, d.source, d.year, d.doc_type, p.themes, p.rowid
            FROM passages p JOIN documents d ON d.id = p.doc_id"""


def _match(row) -> Match:
    return Match(doc_id=row[1], source=row[2], year=row[3], doc_type=row[4],
                 themes=tuple(t for t in (row[5] or "").split("|") if t), rowid=row[6])


def _facts(conn: sqlite3.Connection, ids: list[str]) -> dict[str, Match]:
    out: dict[str, Match] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        out.update((r[0], _match(r)) for r in conn.execute(f"{_FACTS} WHERE p.id IN ({marks})", chunk))
    return out


def match_set(kbase: KnowledgeBase, query: Query, mode: str = "hybrid", floor: float = DENSE_FLOOR) -> MatchSet:
    """Every passage matching ``query`` in the knowledge base (see the module docstring)."""
    result = MatchSet()
    if query.empty:
        return result
    conn = kbase.store.conn
    shared: set[int] = set()
    if mode != "keyword":
        rowids, cut = keyword_rowids(conn, query, some=shared)
    if mode != "dense":
        if mode == "hybrid":
            result.exact = not cut
        else:  # keyword mode ranks an OR of the words: every passage holding one is a hit
            rowids, cut = _or_rowids(conn, query)
            result.exact = not cut
        result.matches.update(_facts_by_rowid(conn, sorted(rowids)))
    if mode != "keyword":
        vector = query_vector(kbase, query)
        snap = kbase.snapshot()
        if snap is not None:  # every vector in memory: an exact, complete count in a few ms
            sims = snap.similarities(vector)
            rows = np.flatnonzero(snap.has_vector & (sims >= floor))
            near = [(pid, float(sims[i])) for pid, i in zip(snap.ids_at(rows), rows)]
        else:
            near = kbase.vectors.query(PASSAGES, vector, DENSE_COUNT_LIMIT)
            if len(near) == DENSE_COUNT_LIMIT and near[-1][1] >= floor:
                result.exact = False
        rowid_of = _rowids(conn, [pid for pid, s in near if s >= floor and pid not in result.matches])
        close = [pid for pid, s in near if pid in rowid_of and close_enough(s, rowid_of[pid] in shared, floor)]
        if close and (query.excluded or query.phrases):
            close = _obeying(conn, close, query)
        result.matches.update(_facts(conn, close))
    return result


def phrase_set(conn: sqlite3.Connection, query: Query) -> tuple[str, MatchSet] | None:
    """For a query of several plain words: the passages holding them as one exact phrase, so a
    page can say "10 of them hold “Better Care Fund”" beside a total counting meaning too."""
    if len(query.terms) < 2 or query.phrases:
        return None
    phrase = " ".join(query.terms)
    rowids, cut = keyword_rowids(conn, Query(phrases=[phrase], excluded=list(query.excluded)))
    return phrase, MatchSet(_facts_by_rowid(conn, sorted(rowids)), exact=not cut)


def _rowids(conn: sqlite3.Connection, ids: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        out.update(conn.execute(f"SELECT id, rowid FROM passages WHERE id IN ({','.join('?' * len(chunk))})", chunk))
    return out


def _or_rowids(conn: sqlite3.Connection, query: Query) -> tuple[set[int], bool]:
    expr = query.fts()
    if not expr:
        return set(), False
    try:
        rows = {r[0] for r in conn.execute("SELECT rowid FROM passages_fts WHERE passages_fts MATCH ? LIMIT ?",
                                           (expr, KEYWORD_COUNT_LIMIT + 1))}
    except sqlite3.OperationalError:
        return set(), False
    return rows, len(rows) > KEYWORD_COUNT_LIMIT


def _facts_by_rowid(conn: sqlite3.Connection, rowids: list[int]) -> dict[str, Match]:
    out: dict[str, Match] = {}
    for start in range(0, len(rowids), 500):
        chunk = rowids[start:start + 500]
        out.update((r[0], _match(r)) for r in conn.execute(
            f"{_FACTS} WHERE p.rowid IN ({','.join('?' * len(chunk))})", chunk))
    return out


def _obeying(conn: sqlite3.Connection, ids: list[str], query: Query) -> list[str]:
    """Semantic matches obey the query syntax too: no excluded word, every phrase present."""
    texts = dict(conn.execute(f"SELECT id, text FROM passages WHERE id IN ({','.join('?' * len(ids))})", ids))
    out = []
    for pid in ids:
        low = " ".join(re.findall(r"[\w£'’\-]+", (texts.get(pid) or "").lower()))
        if any(re.search(r"\b" + re.escape(w.lower()) + r"\b", low) for w in query.excluded):
            continue
        if any(not re.search(r"\b" + re.escape(p.lower()) + r"\b", low) for p in query.phrases):
            continue
        out.append(pid)
    return out
