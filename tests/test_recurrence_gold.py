"""The dev gold's recurrence example: the same NAO finding, reported by two outlets, is one group."""
import json

import pytest

from conftest import GOLD, SHARED, kb_json, run_kb

pytestmark = pytest.mark.slow


def _norm(text: str) -> str:
    return " ".join(text.replace("’", "'").replace("“", '"').replace("”", '"').split()).lower()


def test_gold_recurrence_members_are_grouped_together(tmp_path):
    gold_file = GOLD / "dev.json"
    if not gold_file.is_file():
        pytest.skip(f"gold labels not found at {gold_file}")
    examples = json.loads(gold_file.read_text())["recurrence"]
    docs = sorted({m["doc"] for ex in examples for m in ex["members"]})
    run_kb(tmp_path, "ingest", *[str(SHARED / d) for d in docs])
    groups = kb_json(tmp_path, "recurrences", "--min-years", "1")
    for ex in examples:
        found = []
        for member in ex["members"]:
            anchor = _norm(member["anchor"])
            found.append({g["id"] for g in groups for o in g["occurrences"] if anchor in _norm(o["text"])})
        assert set.intersection(*found), f"{ex['id']}: members are not in one group"
