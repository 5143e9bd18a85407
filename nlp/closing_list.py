"""The closing list of a committee report: numbered paragraphs, some conclusions, some recommendations.

Commons and Lords committee reports end with 'Conclusions and recommendations': every
paragraph of the body printed in bold, renumbered ('8.1' ... '8.33', or '1' ... '24').
Recent Commons reports tag each one '(Conclusion, Paragraph 12)' or '(Recommendation,
Paragraph 31)'; older reports and the Lords mix them untagged, and a paragraph recommends
when one of its sentences asks someone to act ('We recommend ...', 'we urge the Department
to ...', 'Departmental Chief Scientific Advisers ... should ...'). A conclusion is dropped.
The recommendation runs from its first asking sentence to the end of the paragraph (and its
bullets): the sentences before are the conclusion that leads into it.
"""
from __future__ import annotations

import re
from functools import lru_cache

from nlp.layout import Layout
from nlp.segment import SentSpan

GLUED_LABEL = re.compile(r"(?:^|\s)(\d{1,2}\.\d{1,2})\.\s?(?=[A-Z‘“'\"])")


@lru_cache(maxsize=2)
def _rules() -> dict:
    import json
    from pathlib import Path

    data = json.loads((Path(__file__).resolve().parent / "data" / "recommendation_patterns.json").read_text("utf-8"))
    return {
        "asks": [re.compile(p, re.I if not p.startswith("^(?:[A-Z]") else 0) for p in data.get("asks", [])],
        "recommendation": re.compile(data["tags"]["recommendation"], re.I),
        "conclusion": re.compile(data["tags"]["conclusion"], re.I),
        "chapter": [re.compile(p, re.I) for p in data.get("chapter_headings", [])],
    }


def opens_closing_chapter(heading: str) -> bool:
    """'CHAPTER 8: CONCLUSIONS AND RECOMMENDATIONS' opens a chapter only a division ends."""
    return any(p.search(heading.strip(" *")) for p in _rules()["chapter"])


def tag_of(text: str) -> str | None:
    """'recommendation' or 'conclusion' when the paragraph carries a Commons tag."""
    flat = " ".join(text.split())
    rec, con = _rules()["recommendation"].search(flat), _rules()["conclusion"].search(flat)
    return "recommendation" if rec else "conclusion" if con else None


def asks(sentence: str, descriptive) -> bool:
    """The sentence asks someone to act (not 'patients should expect')."""
    s = sentence.strip()
    if re.match(r"^(?:It|This|That|There|These|Those|They|We|Such|Their|Its|Our|What|If|When|Where)\b", s) and \
            not _rules()["asks"][0].search(s) and not _rules()["asks"][1].search(s):
        return False
    return any(p.search(s) for p in _rules()["asks"]) and not any(p.search(s) for p in descriptive)


def closing_item(layout: Layout, spans: list[SentSpan], index: int, descriptive) -> tuple[int, int, str | None] | None:
    """(start, end, label) of the recommendation in closing-list paragraph ``index``, or None."""
    block = layout.blocks[index]
    text = layout.text[block.start:block.end]
    label = re.sub(r"\s", "", block.label).rstrip(".") if block.label else None
    glued = GLUED_LABEL.search(text[:80]) if label is None else None
    if label is None and glued is None:
        return None
    label = label or glued.group(1)
    tag = tag_of(text)
    if tag == "conclusion":
        return None
    inside = [s for s in spans if block.start <= s.start < block.end]
    if glued:
        inside = [s for s in inside if s.end > block.start + glued.end()]
    first = next((s for s in inside if asks(layout.text[s.start:s.end], descriptive)), None)
    if first is None and tag != "recommendation":
        return None
    start = first.start if first else block.start
    return start, _end_with_bullets(layout, index), label


def _end_with_bullets(layout: Layout, index: int) -> int:
    blocks = layout.blocks
    j = index + 1
    while j < len(blocks) and blocks[j].kind == "item" and blocks[j].style in ("bullet", "paren", "roman"):
        j += 1
    return blocks[j - 1].end
