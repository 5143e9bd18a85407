"""The judged recurrence set (eval/recurrence_judged.json) is real: every member is a verbatim
anchor in a shared-corpus document, as `kb eval-recurrence` needs, and it is large enough to
score with (at least 15 groups, and pairs judged not the same point)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import REPO, SHARED
from kb.analysis.recurrence_eval import load_judged, norm
from nlp.text import load_document

pytestmark = pytest.mark.slow
JUDGED = REPO / "eval" / "recurrence_judged.json"


def test_the_judged_set_has_groups_across_documents_and_pairs_judged_apart():
    groups, not_same = load_judged(JUDGED)
    assert len(groups) >= 15 and len(not_same) >= 10
    for g in groups:
        assert g["description"] and g["kind"] in ("finding", "recommendation")
        assert len({m["doc"] for m in g["members"]}) >= 2, g["id"]
    assert len({g["id"] for g in groups}) == len(groups)


def test_every_anchor_is_verbatim_in_its_document():
    if not (SHARED / "corpus").is_dir():
        pytest.skip("shared corpus not found beside the checkout")
    groups, not_same = load_judged(JUDGED)
    members = [m for g in groups for m in g["members"]] + [p[k] for p in not_same for k in ("a", "b")]
    texts: dict[str, str] = {}
    missing = []
    for m in members:
        if m["doc"] not in texts:
            texts[m["doc"]] = norm(" ".join(load_document(Path(SHARED / m["doc"])).pages))
        if norm(m["anchor"]) not in texts[m["doc"]]:
            missing.append((m["doc"], m["anchor"]))
    assert not missing, missing
