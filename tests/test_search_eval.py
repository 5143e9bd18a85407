"""A maintainer measures search quality against relevance judgements (`kb eval-search`):
the metric arithmetic on hand-made rankings, then the whole command on a tiny knowledge base."""
from __future__ import annotations

import dataclasses
import json
import math

import pytest

from conftest import run_kb
from kb.config import Settings
from kb.index.ingest import ingest_paths
from kb.store.knowledge import KnowledgeBase
from kb.search.evaluate import dcg, format_search_report, load_judgements, ndcg, recall

LOG3 = math.log2(3)


def test_dcg_uses_graded_gain_and_a_log2_discount():
    # ranks 1, 2, 3 → discounts log2(2), log2(3), log2(4); gains 2^g − 1
    assert dcg([2, 0, 1]) == pytest.approx(3 / 1 + 0 + 1 / 2)
    assert dcg([1, 1, 1, 1], k=2) == pytest.approx(1 + 1 / LOG3)
    assert dcg([]) == 0


@pytest.mark.parametrize("ranking, relevant, want_ndcg, want_recall", [
    (["a", "b"], {"a": 2, "b": 1}, 1.0, 1.0),                                      # ideal order
    (["b", "a"], {"a": 2, "b": 1}, (1 + 3 / LOG3) / (3 + 1 / LOG3), 1.0),          # swapped
    (["x", "a", "y"], {"a": 2}, (3 / LOG3) / 3, 1.0),                              # found second
    (["a"], {"a": 2, "gone": 2}, 3 / (3 + 3 / LOG3), 0.5),                         # one never retrieved
    ([f"n{i}" for i in range(10)] + ["a"], {"a": 2}, 0.0, 0.0),                    # rank 11 is outside @10
    (["a", "b"], {}, 0.0, 0.0),                                                    # nothing relevant
])
def test_ndcg_and_recall_at_10(ranking, relevant, want_ndcg, want_recall):
    assert ndcg(ranking, relevant) == pytest.approx(want_ndcg)
    assert recall(ranking, relevant) == pytest.approx(want_recall)


def test_judgements_are_a_list_or_a_gold_file_with_a_search_list(tmp_path):
    items = [{"query": "delayed discharge", "relevant": {"corpus/a.md": 2, "corpus/b.md": 0}}]
    listed, gold, bad = tmp_path / "list.json", tmp_path / "gold.json", tmp_path / "bad.json"
    listed.write_text(json.dumps(items))
    gold.write_text(json.dumps({"version": 1, "documents": [], "search": items}))
    bad.write_text(json.dumps({"documents": []}))
    for path in (listed, gold):
        [j] = load_judgements(path)
        assert (j.query, j.relevant) == ("delayed discharge", {"corpus/a.md": 2}), "grade 0 is not relevant"
    with pytest.raises(ValueError, match="search"):
        load_judgements(bad)


DOCS = {
    "discharge.md": "# Delays in leaving hospital\n\nPatients who are fit to leave hospital wait days for home "
                    "care, because agencies cannot recruit care workers. Every day of delayed discharge "
                    "costs a hospital bed and the patient's independence.\n",
    "records.txt": "Sharing care records\n\nInformation governance rules are read differently by each NHS "
                   "body and council, so staff are unsure whether they may share a person's care record "
                   "with social workers, and often share nothing.\n",
    "budgets.md": "# The Better Care Fund\n\nThe Better Care Fund pools NHS and council money so both can "
                  "plan community services together; late annual allocations make long contracts hard.\n",
}


@pytest.mark.slow
def test_eval_search_scores_each_mode_and_lists_what_is_not_in_the_knowledge_base(tmp_path):
    root, home = tmp_path / "shared", tmp_path / "kb"
    (root / "corpus").mkdir(parents=True)
    for name, text in DOCS.items():
        (root / "corpus" / name).write_text(text, encoding="utf-8")
    (root / "corpus" / "not-ingested.md").write_text("# Another report\n\nNot in the knowledge base.\n")
    kbase = KnowledgeBase(dataclasses.replace(Settings.from_env(home), chroma_url=None))
    assert {r.status for r in ingest_paths(kbase, [root / "corpus" / n for n in DOCS])} == {"new"}
    kbase.close()

    judgements = [
        {"query": "delayed discharge from hospital", "relevant": {"corpus/discharge.md": 2}},
        {"query": "information governance and sharing care records",
         "relevant": {"corpus/records.txt": 2, "corpus/budgets.md": 0}},
        {"query": "Better Care Fund pooled budgets",
         "relevant": {"corpus/budgets.md": 2, "corpus/not-ingested.md": 1, "corpus/does-not-exist.md": 1}},
    ]
    (root / "bench").mkdir()
    path = root / "bench" / "judgements.json"
    path.write_text(json.dumps(judgements))

    # Paths are relative to the judgements file's parent's parent unless --root says otherwise.
    report = json.loads(run_kb(home, "eval-search", str(path), "--json").stdout)
    assert list(report["modes"]) == ["hybrid", "keyword", "dense"]
    assert (report["queries"], report["documents"], report["k"]) == (3, 3, 10)
    assert {m["path"]: m["reason"].split(" ")[0] for m in report["missing"]} == {
        "corpus/does-not-exist.md": "no", "corpus/not-ingested.md": "not"}

    for mode, result in report["modes"].items():
        first, second, third = result["queries"]
        assert (first["ndcg"], first["recall"]) == (1.0, 1.0), mode
        assert (second["ndcg"], second["recall"]) == (1.0, 1.0), mode
        # The Better Care Fund note comes first, but two judged documents cannot be retrieved.
        assert third["ranking"][0]["path"] == "corpus/budgets.md", mode
        assert third["ndcg"] == pytest.approx(3 / (3 + 1 / LOG3 + 1 / 2), abs=1e-4), mode
        assert third["recall"] == pytest.approx(1 / 3, abs=1e-4), mode
        assert result["ndcg"] == pytest.approx((2 + third["ndcg"]) / 3, abs=1e-4), mode
        doc_ids = [r["doc_id"] for r in first["ranking"]]
        assert len(set(doc_ids)) == len(doc_ids), "documents are ranked, not passages"
    # Dense search ranks only documents close in meaning (issue 16: no more nearest-however-far).
    assert [r["path"] for r in report["modes"]["dense"]["queries"][0]["ranking"]] == ["corpus/discharge.md"]

    text = format_search_report(report)
    assert "hybrid" in text and "nDCG@10" in text and "corpus/does-not-exist.md" in text

    only = json.loads(run_kb(home, "eval-search", str(path), "--root", str(root), "--mode", "keyword",
                             "--json").stdout)
    assert list(only["modes"]) == ["keyword"]

    # The web server ranks through its in-memory snapshot: the same scores, mode by mode.
    through = json.loads(run_kb(home, "eval-search", str(path), "--snapshot", "--json").stdout)
    assert through["snapshot"] is True and report["snapshot"] is False
    for mode, result in report["modes"].items():
        assert through["modes"][mode]["ndcg"] == result["ndcg"], mode
        assert [q["ranking"] for q in through["modes"][mode]["queries"]] == \
            [q["ranking"] for q in result["queries"]], mode
