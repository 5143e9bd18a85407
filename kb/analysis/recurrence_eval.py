"""Score recurrence groups against judged groups: pair precision, pair recall, groups hit.

A judged file holds ``"recurrence"``: groups whose members (a document path and a verbatim
``anchor``) make one point, as in ``../shared/gold/dev.json``; and optionally ``"not_same"``:
pairs ``{"a": member, "b": member, "why": ...}`` judged *not* the same point (same topic,
other claim; opposite direction; one publication quoted by its response).

A member is found when an extracted finding or recommendation of its document contains the
anchor (whitespace, case, curly quotes and markdown escapes normalised, as the gold README
says). Then, over the knowledge base's current groups:

* pair recall: of all member pairs of one judged group (from different documents), the share
  the system put in one group (a member not extracted counts as missed);
* pair precision: of all pairs of found judged items the system put in one group, the share
  judged to be in one group (pairs across judged groups and ``not_same`` pairs are errors);
* groups hit: judged groups with at least two members from different documents in one group.
"""
from __future__ import annotations

import itertools
import json
from pathlib import Path

from kb.store.digest import file_sha256


def norm(text: str) -> str:
    text = text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    text = text.replace("\\", "").replace("*", "")
    return " ".join(text.split()).lower()


def _default_root(path: Path) -> Path:
    for root in (path.resolve().parent.parent, Path.cwd().parent / "shared", Path.cwd() / "shared"):
        if (root / "corpus").is_dir() or (root / "seeds").is_dir():
            return root
    return path.resolve().parent.parent


def load_judged(path: str | Path) -> tuple[list[dict], list[dict]]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    groups = data.get("recurrence") if isinstance(data, dict) else None
    if not isinstance(groups, list):
        raise ValueError(f"{path}: expected an object with a 'recurrence' list")
    for n, g in enumerate(groups, 1):
        if not isinstance(g.get("members"), list) or len(g["members"]) < 2:
            raise ValueError(f"{path}: judged group {n} needs two or more members")
        for m in g["members"]:
            if not isinstance(m.get("doc"), str) or not isinstance(m.get("anchor"), str):
                raise ValueError(f"{path}: every member of judged group {n} needs 'doc' and 'anchor'")
    return groups, list(data.get("not_same") or [])


class _Locator:
    """Finds the extracted item (kind, id, group_id) that contains a member's anchor."""

    def __init__(self, store, root: Path):
        self.store, self.root = store, root
        self.doc_ids: dict[str, str | None] = {}
        self.items: dict[str, list[tuple[str, str, str | None, str]]] = {}

    def doc_id(self, path: str) -> str | None:
        """The judged file's document, or the rendition that speaks for its publication (the
        grouping reads one rendition of each publication)."""
        if path not in self.doc_ids:
            file = self.root / path
            doc = self.store.document_by_sha(file_sha256(file)) if file.is_file() else None
            self.doc_ids[path] = (doc.publication_id or doc.id) if doc else None
        return self.doc_ids[path]

    def find(self, member: dict) -> tuple[str, str, str | None] | None:
        doc_id = self.doc_id(member["doc"])
        if doc_id is None:
            return None
        if doc_id not in self.items:
            conn = self.store.conn
            rows = [("finding", str(r[0]), r[1], norm(r[2])) for r in conn.execute(
                "SELECT id, group_id, sentence FROM barriers WHERE doc_id = ?", (doc_id,))]
            rows += [("recommendation", r[0], r[1], norm(r[2])) for r in conn.execute(
                "SELECT id, group_id, text FROM recommendations WHERE doc_id = ?", (doc_id,))]
            self.items[doc_id] = rows
        anchor = norm(member["anchor"])
        kind = member.get("kind")
        hits = [r for r in self.items[doc_id] if anchor in r[3] and (kind is None or r[0] == kind)]
        if not hits:
            return None
        grouped = [h for h in hits if h[2]]
        kind_, item_id, group_id, _ = (grouped or hits)[0]
        return kind_, item_id, group_id


def evaluate_recurrence(store, path: str | Path, root: str | Path | None = None) -> dict:
    """Pair precision, pair recall and groups hit of the current groups against a judged file."""
    path = Path(path)
    groups, not_same = load_judged(path)
    locator = _Locator(store, Path(root) if root else _default_root(path))
    judged: dict[tuple[str, str], int] = {}  # found item -> judged group index
    per_group = []
    found_pairs = total_pairs = hit = 0
    for n, g in enumerate(groups):
        located = []
        for m in g["members"]:
            item = locator.find({**m, "kind": g.get("kind")})
            located.append((m, item))
            if item:
                judged.setdefault(item[:2], n)
        pairs = [(a, b) for a, b in itertools.combinations(located, 2) if a[0]["doc"] != b[0]["doc"]]
        together = sum(1 for (_, x), (_, y) in pairs if x and y and x[2] and x[2] == y[2])
        total_pairs += len(pairs)
        found_pairs += together
        hit += together > 0
        per_group.append({"id": g.get("id", str(n)), "members": len(g["members"]),
                          "extracted": sum(1 for _, it in located if it), "pairs": len(pairs),
                          "pairs_together": together, "hit": together > 0})
    # Precision over the system's pairs among judged items: a pair is right when one judged
    # group holds both, wrong when two judged groups hold them or it is judged not the same
    # point; a pair with an item only named in a not-same pair is otherwise unknown, not counted.
    negatives = set()
    for pair in not_same:
        a, b = locator.find(pair["a"]), locator.find(pair["b"])
        if a and b:
            negatives.add(frozenset((a[:2], b[:2])))
            for item in (a, b):
                judged.setdefault(item[:2], None)
    group_of = {}
    for key in judged:
        table = "barriers" if key[0] == "finding" else "recommendations"
        row = store.conn.execute(f"SELECT group_id FROM {table} WHERE id = ?", (key[1],)).fetchone()
        group_of[key] = row[0] if row else None
    tp = fp = 0
    wrong = []
    for x, y in itertools.combinations(judged, 2):
        if not group_of[x] or group_of[x] != group_of[y]:
            continue
        if frozenset((x, y)) in negatives or (judged[x] is not None and judged[y] is not None and judged[x] != judged[y]):
            fp += 1
            wrong.append([list(x), list(y)])
        elif judged[x] is not None and judged[x] == judged[y]:
            tp += 1
    return {
        "judged_groups": len(groups), "judged_pairs": total_pairs, "not_same_pairs": len(not_same),
        "pair_recall": round(found_pairs / total_pairs, 3) if total_pairs else None,
        "pair_precision": round(tp / (tp + fp), 3) if tp + fp else None,
        "groups_hit": hit, "groups_hit_share": round(hit / len(groups), 3) if groups else None,
        "true_pairs": tp, "false_pairs": fp, "false_pair_items": wrong, "groups": per_group,
    }


def format_recurrence_report(report: dict) -> str:
    def pct(x):
        return "n/a" if x is None else f"{x:.3f}"

    lines = [f"judged groups: {report['judged_groups']}  judged pairs: {report['judged_pairs']}  "
             f"not-same pairs: {report['not_same_pairs']}",
             f"pair precision: {pct(report['pair_precision'])}  ({report['true_pairs']} right, "
             f"{report['false_pairs']} wrong)",
             f"pair recall:    {pct(report['pair_recall'])}",
             f"groups hit:     {report['groups_hit']} of {report['judged_groups']} "
             f"({pct(report['groups_hit_share'])})", ""]
    for g in report["groups"]:
        mark = "hit " if g["hit"] else "miss"
        lines.append(f"  {mark} {g['id']}: {g['pairs_together']}/{g['pairs']} pairs together, "
                     f"{g['extracted']}/{g['members']} members extracted")
    return "\n".join(lines)
