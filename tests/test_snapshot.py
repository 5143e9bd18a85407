"""The web server's in-memory search snapshot ranks exactly as SQLite and FTS5 do, applies
filters exactly as SQL does, and is never used once the knowledge base has changed."""
import numpy as np
import pytest

from bench.synth import build_search_kb
from kb.config import Settings
from kb.store.knowledge import KnowledgeBase
from kb.search.query import parse_query
from kb.search.engine import Filters, keyword_ranking, search, snapshot_keyword_ranking
from kb.store.snapshot import tokens_of
from kb.store.vectors import PASSAGES

SENTENCES = [
    "Information governance rules are a barrier to sharing data between health and social care.",
    "The Department should publish a workforce strategy for adult social care by March 2018.",
    "Delayed transfers of care rose by 25% in a year as Covid-19 disrupted hospital discharge.",
    "Pooled budgets under the Better Care Fund have not yet produced the savings expected of them.",
    "Integrated care systems need shared care records and interoperable digital services.",
    "Local authorities' social care workforce vacancies reached 165,000 in 2022.",
    "The government's response accepted the recommendation on integrated care funding.",
    "Evaluation of the new care models was too weak to show what works.",
    "Financial incentives for hospitals and councils pull in different directions.",
    "Care homes reported that recruitment and retention of nurses is the main pressure.",
]
QUERIES = [
    "social care workforce vacancies",
    "care care workforce",            # a word twice counts twice, as in FTS5
    "Covid-19 hospital discharge",    # FTS5 reads 'Covid-19' as the phrase 'covid 19'
    '"better care fund" savings',     # a required phrase
    '"integrated care" "shared care records"',  # phrases alone
    "workforce -nurses",              # an exclusion
    "government's response",
    "the and of",                     # stopwords only
    "zebra",                          # no passage has it
]
FILTERS = [Filters(), Filters(source="nao"), Filters(theme="workforce"), Filters(year_from=2015, year_to=2020),
           Filters(doc_type="guidance"), Filters(theme="information_sharing", source="parliament"),
           Filters(theme="no_such_theme")]


def _vectors(n: int, seed: int = 3) -> np.ndarray:
    m = np.random.default_rng(seed).normal(size=(n, 384)).astype(np.float32)
    return m / np.linalg.norm(m, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    home = tmp_path_factory.mktemp("snapshot-kb")
    writer = KnowledgeBase(Settings(home=home))
    build_search_kb(writer, SENTENCES, _vectors(len(SENTENCES)), 2_400)
    writer.close()
    return home


@pytest.fixture
def reader(home):
    kbase = KnowledgeBase(Settings(home=home), readonly=True)
    yield kbase
    kbase.close()


def test_keyword_rankings_on_the_snapshot_are_fts5s_exactly(reader):
    snap = reader.snapshots.build_now()
    assert snap is not None and len(snap) == 2_400
    assert tokens_of("Vacancies") == ("vacanc",) and tokens_of("Covid-19") == ("covid", "19")
    compared = 0
    for text in QUERIES:
        query = parse_query(text)
        for filters in FILTERS:
            # 200: what search asks for; 10: the pruned scoring (rarest words first, the rest
            # only for rows still able to reach the top) cuts hardest, and must cut nothing it should keep.
            for limit in (200, 10):
                expected = keyword_ranking(reader.store.conn, query, filters, limit)
                got = snapshot_keyword_ranking(snap, query, filters, limit, reader.store.conn)
                assert got == expected, (text, filters, limit)
                compared += bool(expected)
    assert compared >= 60  # most combinations find something: the comparison is not vacuous


def test_filters_on_the_snapshot_select_the_rows_sql_selects(reader):
    snap = reader.snapshots.build_now()
    for filters in FILTERS[1:]:
        where, args = filters.sql()
        expected = {r[0] for r in reader.store.conn.execute(
            f"SELECT p.id FROM passages p JOIN documents d ON d.id = p.doc_id WHERE {where}", args)}
        got = {snap.ids[i] for i in np.flatnonzero(snap.mask(filters))}
        assert got == expected, filters


def test_a_filtered_dense_search_is_exact_over_the_int8_vectors(reader):
    """The snapshot keeps int8 vectors (a scale per passage): a filtered dense search ranks
    every filtered passage by them, and its top 20 are the float32 top 20 up to near-ties."""
    snap = reader.snapshots.build_now()
    vector = _vectors(1, seed=9)[0]
    stored = reader.vectors.collection(PASSAGES).get(include=["embeddings"], limit=5_000)
    matrix = dict(zip(stored["ids"], np.asarray(stored["embeddings"], dtype=np.float32)))
    for filters in (Filters(source="nao"), Filters(theme="workforce")):
        where, args = filters.sql()
        ids = [r[0] for r in reader.store.conn.execute(
            f"SELECT p.id FROM passages p JOIN documents d ON d.id = p.doc_id WHERE {where}", args)]
        got = snap.nearest(vector, snap.mask(filters), 20)

        def int8_score(pid):
            seg, i = snap.locate_position(snap.pos_of[pid])
            return float(seg.vectors[i].astype(np.float32) @ vector) * float(seg.scale[i])

        assert got == sorted(ids, key=lambda pid: (-np.float32(int8_score(pid)), snap.rowids[snap.pos_of[pid]]))[:20]
        exact = sorted((float(matrix[pid] @ vector) for pid in ids), reverse=True)
        assert all(float(matrix[pid] @ vector) >= exact[19] - 0.01 for pid in got)
        assert all(abs(int8_score(pid) - float(matrix[pid] @ vector)) < 0.01 for pid in got)


def test_search_through_a_snapshot_returns_what_sqlite_returns(reader):
    without = [h.passage_id for h in search(reader, "workforce vacancies", k=10, mode="keyword")]
    reader.snapshots.build_now()
    assert reader.snapshot() is not None
    with_snapshot = [h.passage_id for h in search(reader, "workforce vacancies", k=10, mode="keyword")]
    assert with_snapshot == without and len(without) == 10
    hybrid = search(reader, "workforce vacancies", k=10, filters=Filters(source="nao"))
    assert hybrid and all(h.source == "nao" for h in hybrid)


def test_a_changed_knowledge_base_is_searched_in_sqlite_until_the_snapshot_is_rebuilt(home, reader):
    reader.snapshots.build_now()
    assert reader.snapshot() is not None
    writer = KnowledgeBase(Settings(home=home))
    with writer.store.transaction() as conn:
        conn.execute("""INSERT INTO documents(id, sha256, url, source, year, ingested_at)
                        VALUES ('late', 'late', 'https://x/late', 'nao', 2024, '2026-01-01')""")
        conn.execute("""INSERT INTO passages(id, doc_id, seq, page, text, themes)
                        VALUES ('late-1', 'late', 0, 1, 'A quokka census of care homes.', '')""")
    writer.close()
    assert reader.snapshot() is None  # out of date: never answer from it
    hits = search(reader, "quokka", mode="keyword")
    assert [h.passage_id for h in hits] == ["late-1"]  # SQLite answered meanwhile
    reader.snapshots.wait(60)  # the rebuild started in the background
    snap = reader.snapshot()
    assert snap is not None and "late-1" in snap.pos_of
    assert [h.passage_id for h in search(reader, "quokka", mode="keyword")] == ["late-1"]


def test_a_small_knowledge_base_keeps_no_snapshot(tmp_path):
    writer = KnowledgeBase(Settings(home=tmp_path))
    build_search_kb(writer, SENTENCES, _vectors(len(SENTENCES)), 300)
    writer.close()
    reader = KnowledgeBase(Settings(home=tmp_path), readonly=True)
    assert reader.snapshots.build_now() is None  # FTS5 is already fast at this size
    assert reader.snapshot() is None and search(reader, "workforce", mode="keyword")
    reader.close()


def test_at_a_million_passages_dense_search_shortlists_by_sign_bits_and_keeps_the_top(reader, monkeypatch):
    """Above ``BINARY_FROM`` rows a full int8 product is too slow for 50 ms on two cores, so
    the snapshot shortlists by 384 sign bits and ranks the shortlist exactly: the top 10
    must stay the exact top 10 (here forced at 2,400 passages with a shortlist of 600)."""
    from kb.store import snapshot as snapshot_module

    snap = reader.snapshots.build_now()
    keep = snap.mask(Filters())
    found = []
    for seed in range(10, 20):
        vector = _vectors(1, seed=seed)[0]
        exact = snap.nearest(vector, keep, 10)
        monkeypatch.setattr(snapshot_module, "BINARY_FROM", 0)
        monkeypatch.setattr(snapshot_module, "SHORTLIST", 600)
        found.append(len(set(snap.nearest(vector, keep, 10)) & set(exact)) / 10)
        monkeypatch.undo()
    assert np.mean(found) >= 0.9, found


def test_a_build_finds_each_indexed_rowid_where_a_binary_search_would():
    """The build maps FTS5's rowids to positions through a table when rowids are dense (a
    million passages have 130M token instances); deleted passages leave gaps, and a rowid the
    passages lack must be reported, never mapped to a neighbour."""
    from kb.store.snapshot import _position_of, locate

    rng = np.random.default_rng(5)
    for rowids in (np.arange(1, 5_001), np.sort(rng.choice(np.arange(10, 20_000), 5_000, replace=False)),
                   np.array([3, 10**9])):  # the last too sparse for a table: the binary search answers
        asked = np.r_[rng.choice(rowids, 2_000), [int(rowids[0]) - 1, int(rowids[-1]) + 1, 10**10]]
        pos, found = _position_of(rowids)(asked)
        want_pos, want_found = locate(rowids, asked)
        assert (found == want_found).all() and (pos[found] == want_pos[want_found]).all()
        assert found[:-3].all() and not found[-3:].any()


def test_at_a_million_passages_meaning_is_ranked_beside_bm25_and_the_results_are_the_same(reader, monkeypatch):
    """From ``CONCURRENT_FROM`` passages a hybrid search ranks by meaning on a second thread
    while BM25 runs on the caller's (forced here at 2,400): every query and filter must give
    exactly the hits of the one-thread search, and the dense ranking must really have run on
    the search pool."""
    import threading

    from kb.search import engine
    from kb.store.snapshot import Snapshot

    reader.snapshots.build_now()
    cases = [(q, f) for q in QUERIES for f in FILTERS[:4]]
    one_thread = [[(h.passage_id, h.score) for h in search(reader, q, k=10, filters=f)] for q, f in cases]
    seen = []
    nearest = Snapshot.nearest

    def spying(self, *args, **kwargs):
        seen.append(threading.current_thread().name)
        return nearest(self, *args, **kwargs)

    monkeypatch.setattr(Snapshot, "nearest", spying)
    monkeypatch.setattr(engine, "CONCURRENT_FROM", 0)
    beside = [[(h.passage_id, h.score) for h in search(reader, q, k=10, filters=f)] for q, f in cases]
    assert beside == one_thread
    assert any(hits for hits in beside)
    assert seen and all(name.startswith("search") for name in seen), set(seen)


def test_a_hyphenated_word_or_phrase_is_looked_up_in_fts5_once_per_search(reader):
    """FTS5 reads 'Covid-19' as the phrase 'covid 19', which the snapshot's postings cannot
    place: the ranking asks FTS5 for its rows, and the match check of the same search reuses
    them instead of asking again. What matches must not change."""
    from kb.search.relevance import relevant_ids

    snap = reader.snapshots.build_now()
    statements: list[str] = []
    reader.store.conn.set_trace_callback(statements.append)
    hits = search(reader, "Covid-19 hospital discharge", k=10)
    reader.store.conn.set_trace_callback(None)
    assert hits
    assert len([s for s in statements if "MATCH" in s]) == 1, statements
    for q in QUERIES:
        parsed = parse_query(q)
        held: dict = {}
        ranked = snapshot_keyword_ranking(snap, parsed, Filters(), 200, reader.store.conn, held) or []
        ids = list(dict.fromkeys(ranked + [h.passage_id for h in search(reader, q, k=50, mode="dense")]))
        vector = reader.embed_query(parsed.semantic_text())
        asked = relevant_ids(reader, parsed, ids, vector=vector)
        reused = relevant_ids(reader, parsed, ids, vector=vector, held=(snap, held))
        assert reused == asked, q


def _built_from_scratch(kbase) -> dict[str, np.ndarray]:
    """A full build of ``kbase``'s snapshot (the old one removed first) and its arrays."""
    import shutil

    from kb.store.snapshot_files import read_manifest, snapshot_dir

    folder = snapshot_dir(kbase.settings)
    shutil.rmtree(folder, ignore_errors=True)
    assert kbase.snapshots.build_now() is not None
    segment = folder / read_manifest(folder)["segments"][-1]
    return {f.stem: np.load(f) for f in segment.glob("*.npy")}


def test_a_full_build_reads_the_full_text_postings_on_a_second_thread_and_builds_what_one_thread_builds(
        reader, monkeypatch):
    """A million passages' postings are most of a full build, so a second connection reads
    them while the building thread reads the rows and vectors. When that connection does not
    see the build's state (a write landed between the two first reads), the building thread
    reads the postings itself, and the snapshot comes out the same either way."""
    import threading

    from kb.store import snapshot as snapshot_module
    from kb.store import snapshot_files

    readers = []
    postings = snapshot_module._postings

    def spying(*args, **kwargs):
        readers.append(threading.current_thread().name)
        return postings(*args, **kwargs)

    monkeypatch.setattr(snapshot_module, "_postings", spying)
    beside = _built_from_scratch(reader)
    assert len(readers) == 1 and readers[0].startswith("snapshot-postings"), readers
    readers.clear()
    monkeypatch.setattr(snapshot_files, "postings_on_own_connection", lambda path, stamp: None)
    alone = _built_from_scratch(reader)
    assert readers == [threading.current_thread().name]
    assert beside.keys() == alone.keys() and {"post_pos", "term_text", "vectors"} <= beside.keys()
    assert all(np.array_equal(beside[name], alone[name]) for name in beside)


def test_the_second_connection_declines_a_database_that_changed_since_the_build_began(tmp_path):
    import json
    import sqlite3

    from kb.store.snapshot import fingerprint, postings_on_own_connection

    writer = KnowledgeBase(Settings(home=tmp_path))
    build_search_kb(writer, SENTENCES, _vectors(len(SENTENCES)), 300)
    path = str(writer.settings.sqlite_path)
    with sqlite3.connect(path) as conn:
        stamp = json.loads(json.dumps(fingerprint(conn)))
    rowids, postings = postings_on_own_connection(path, stamp)
    assert len(rowids) == 300 and len(postings[3])  # positions of every token instance
    with writer.store.transaction() as conn:
        conn.execute("""INSERT INTO passages(id, doc_id, seq, page, text, themes)
                        SELECT 'late-1', doc_id, 999, 1, 'A quokka census of care homes.', '' FROM passages LIMIT 1""")
    writer.close()
    assert postings_on_own_connection(path, stamp) is None


def test_vectors_come_the_same_from_one_pass_over_the_cache_or_from_keyed_look_ups(reader, monkeypatch):
    """A full build reads the whole embedding cache once (a million keyed look-ups took 26 s)
    and an update looks its few keys up; both must give every passage its own vector,
    including passages that share a text and one whose vector is not cached."""
    import sqlite3

    from kb.store import snapshot_files
    from kb.store.snapshot import PASSAGE_ROWS, quantise

    conn = sqlite3.connect(f"file:{reader.settings.sqlite_path}?mode=ro", uri=True)
    rows = conn.execute(PASSAGE_ROWS + " ORDER BY p.rowid LIMIT 400").fetchall()
    rows += rows[:3] + [(0, "x", "", "nao", None, None, "A text no embedding cache holds.")]
    source = snapshot_files.CachedVectors(conn, reader.embedder.variant)
    keys = source.keys_of(rows)
    monkeypatch.setattr(snapshot_files, "SCAN_RATIO", 10**9)
    scanned = source.vectors_for(keys)
    monkeypatch.setattr(snapshot_files, "SCAN_RATIO", 0)
    looked_up = source.vectors_for(keys)
    conn.close()
    assert all(np.array_equal(a, b) for a, b in zip(scanned, looked_up))
    q, scale = scanned
    cached = reader.store.cached_vectors([reader.key(r[6]) for r in rows[:400]])
    want_q, want_scale = quantise(np.stack([cached[reader.key(r[6])] for r in rows[:400]]))
    assert np.array_equal(q[:400], want_q) and np.array_equal(scale[:400], want_scale)
    assert np.array_equal(q[400:403], q[:3]) and np.array_equal(scale[400:403], scale[:3])
    assert scale[-1] == 0 and not q[-1].any()
