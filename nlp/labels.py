"""Recommendation labels in one form, ranges expanded, and quoted text matched.

Reports and responses print the same recommendation differently: '2(a)', '2a', '2.a',
'Recommendation 2a', '4(a)(iii)', '8.3'; responses answer several at once: '8.14–8.16',
'12(a)–(c)', '2a, 2b and 2c', '8.21, 8.22'. ``expand_labels`` turns any of these into a list
of canonical labels ('2a', '4aiii', '8.3') so a response can be linked to every
recommendation it answers. Where the printed number fails (a theme heading numbered 1…5, a
response that misnumbers its quotation), ``best_text_match`` finds the recommendation whose
words the response quotes.
"""
from __future__ import annotations

import re

_ROMAN = ["i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xi", "xii"]
_PREFIX = re.compile(r"^\s*(?:key\s+)?(?:recommendations?|rec\.?|conclusions?|paragraphs?|para\.?)\s*", re.I)


def canonical(label: str | None) -> str | None:
    """'Recommendation 2(a)' / '2a' / '2.a' → '2a'; '4(a)(iii)' → '4aiii'; '8.3.' → '8.3'."""
    if not label:
        return None
    label = _PREFIX.sub("", label.strip().lower()).strip(" .:;")
    m = re.fullmatch(r"(\d{1,3})\.(\d{1,3})", label)
    if m:
        return f"{int(m.group(1))}.{int(m.group(2))}"
    label = re.sub(r"(?<=\d)\.(?=[a-z])", "", label)
    out = re.sub(r"[^0-9a-z.]", "", label).strip(".")
    return out or None


def expand_labels(text: str | None) -> list[str]:
    """Every canonical label a 'responds to' string names, ranges expanded, in order."""
    if not text:
        return []
    out: list[str] = []
    for part in re.split(r"\s*(?:,|;|&|\band\b)\s*", _PREFIX.sub("", text.strip())):
        for label in _expand_part(part.strip()):
            if label and label not in out:
                out.append(label)
    return out


def _expand_part(part: str) -> list[str | None]:
    m = re.fullmatch(r"(\d{1,3})\.(\d{1,3})\s*(?:[-–—]|to)\s*(?:(\d{1,3})\.)?(\d{1,3})", part, re.I)
    if m and (m.group(3) is None or m.group(3) == m.group(1)) and int(m.group(2)) <= int(m.group(4)) <= int(m.group(2)) + 30:
        return [f"{int(m.group(1))}.{n}" for n in range(int(m.group(2)), int(m.group(4)) + 1)]
    m = re.fullmatch(r"(\d{1,3})\s*\(?([a-z])\)?\s*(?:[-–—]|to)\s*\(?([a-z])\)?", part, re.I)
    if m and m.group(2).lower() <= m.group(3).lower():
        return [f"{m.group(1)}{chr(c)}" for c in range(ord(m.group(2).lower()), ord(m.group(3).lower()) + 1)]
    m = re.fullmatch(r"(\d{1,3}\s*\(?[a-z]\)?)\s*\(?([ivx]{1,4})\)?\s*(?:[-–—]|to)\s*\(?([ivx]{1,4})\)?", part, re.I)
    if m and m.group(2).lower() in _ROMAN and m.group(3).lower() in _ROMAN:
        a, b = _ROMAN.index(m.group(2).lower()), _ROMAN.index(m.group(3).lower())
        return [canonical(m.group(1)) + _ROMAN[k] for k in range(a, b + 1)]
    m = re.fullmatch(r"(\d{1,3})\s*(?:[-–—]|to)\s*(\d{1,3})", part)
    if m and int(m.group(1)) < int(m.group(2)) <= int(m.group(1)) + 30:
        return [str(n) for n in range(int(m.group(1)), int(m.group(2)) + 1)]
    return [canonical(part)]


def same_label(response_label: str, rec_label: str | None) -> bool:
    """A response to '2' answers '2a' … too when the report has only lettered parts."""
    rec = canonical(rec_label)
    return rec is not None and rec == response_label


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if len(w) > 3}


def text_overlap(quoted: str, rec_text: str) -> float:
    """Share of the recommendation's words that the quotation repeats (0..1)."""
    rec = _words(rec_text)
    return len(rec & _words(quoted)) / len(rec) if rec else 0.0


def best_text_match(quoted: str | None, recs: list[tuple[str, str]], floor: float = 0.6) -> str | None:
    """Id of the recommendation ``(id, text)`` that ``quoted`` repeats best, at least ``floor``."""
    if not quoted or not recs:
        return None
    score, best = max((text_overlap(quoted, text), rid) for rid, text in recs)
    return best if score >= floor else None


def link(responds_to: str | None, quoted: str | None,
         recs: list[tuple[str, str | None, str]]) -> tuple[list[str], str | None]:
    """Ids of the recommendations ``(id, label, text)`` a response answers, and how they were found.

    By printed label first ('label'), all of them for a range; '2' answers '2a', '2b' (and
    '4b' answers '4b(i)') when the report prints only the parts. The quotation overrules a label whose
    recommendation it does not repeat (a misprinted number, a theme heading's number), and
    finds the recommendation alone where no label matches ('text').
    """
    wanted = expand_labels(responds_to)
    by_label = [rid for lb in wanted for rid, rl, _ in recs if same_label(lb, rl)]
    if not by_label:  # '4b' answers '4b(i)' when the report prints only the parts
        by_label = [rid for lb in wanted for rid, rl, _ in recs
                    if re.fullmatch(rf"{re.escape(lb)}[a-z]+", canonical(rl) or "")]
    texts = {rid: text for rid, _, text in recs}
    if quoted and by_label and not all(text_overlap(quoted, texts[r]) >= 0.5 for r in by_label):
        repeated = [rid for rid, _, text in recs if text_overlap(quoted, text) >= 0.6]
        if repeated:
            return repeated, "text"
    if by_label:
        return list(dict.fromkeys(by_label)), "label"
    found = best_text_match(quoted, [(rid, text) for rid, _, text in recs])
    return ([found], "text") if found else ([], None)
