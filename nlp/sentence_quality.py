"""Is this text a sentence worth classifying? Garbled columns, captions, table rows, page
furniture and citation lists are not.

PDF text layers interleave the words of side-by-side columns and infographics
("w es on on collaboration, de laboration, and tained stak ..."), flatten tables into runs
of figures and glue captions and source lines to the prose around them. A classifier fed
such text finds 'barriers' in it, and they are then charted and grouped as findings. These
rules run before any model and cost microseconds per sentence; each returns a short
reason so tests and users can see why a sentence was set aside.
"""
from __future__ import annotations

import re

# Short words that are real English words; other tokens of one or two letters in running
# text are fragments of words cut by a column boundary.
_SHORT_WORDS = frozenset("""a i an as at be by do go he if in is it me my no of on or so to up us we
am eg ie vs uk nhs gp gps mr ms dr st ok""".split())
_TOKEN = re.compile(r"[A-Za-z]+(?:['’][a-z]+)?|\d[\d,.]*%?|£[\d,.]+\w*|\S")
_WORD = re.compile(r"[A-Za-z]+(?:['’][a-z]+)?")
_NUMBER = re.compile(r"^[£$€]?[-+]?\d[\d,.]*%?[a-z]{0,2}$")
_CAPTION = re.compile(
    r"^\W*(?:figure|fig\.|table|chart|graph|exhibit|box|map|diagram|infographic|source|sources|notes?|base|"
    r"key|legend|image|photo)\s*(?:[\d.:A-Z]|\(|$)", re.I)
_AUTHOR = re.compile(r"\b[A-Z][a-z]+(?:-[A-Z][a-z]+)?\s+[A-Z]{1,3}[,.]")
_SOFT_HYPHEN_BREAK = re.compile(r"\w‑\s|\s‑\w|\s‑\s")  # U+2011 left by column breaks
_VOWEL = re.compile(r"[aeiouy]", re.I)

# Measured without links, evidence references ('(INQ000090442_00013)') and markdown marks,
# which are not words but do not make a sentence unreadable either.
_NOISE = re.compile(r"\(?\s*(?:https?://|www\.)[^\s)]+\)?|\((?:[A-Z]{2,}[\w/]*\d[\w/.,;\s-]*)\)|[*#_`\\]")

MIN_WORDS = 5
MAX_WORDS = 120

# Notes every report carries that are about the document, not its subject: rounding notes,
# copyright and licence lines, links "[Accessed ...]", declarations of interest, newsletter
# sign-ups, witness-list keys. They use the words of obstacles ("may not sum", "not intended")
# and were read as barriers.
_BOILERPLATE = re.compile(
    r"\b(?:may|might|do|does|will) not (?:sum|add(?: up)?) to\b|\bdue to rounding\b|"
    r"\b(?:figures?|totals?|numbers?) (?:are|have been|may be|were) rounded\b|\bnot intended to convey\b|"
    r"\bwitnesses marked with\b|\bget our latest\b|\bsign up (?:to|for) our\b|\bprotected by copyright\b|"
    r"\[accessed\b|\baccessed (?:on )?\d|^\W*available(?: at| from)?\s*:|\ball rights reserved\b|"
    r"\bcrown copyright\b|\bopen government licen[cs]e\b|\btarget implementation date\b|"
    r"\b(?:declare|declared|have) no (?:competing|conflicts? of) interests?\b|\bethical approval\b",
    re.I)
# Words one of those notes must contain: a substring test on them is ten times cheaper than
# the regex, which then runs only on the few sentences that have one.
_BOILERPLATE_WORDS = ("not sum", "not add", "round", "intended to convey", "witnesses marked", "get our latest",
                      "sign up", "copyright", "accessed", "available", "rights reserved", "licen",
                      "implementation date", "interest", "ethical approval")
_BULLET = re.compile(r"^\W*(?:[•●▪■◦‣▶►✓➢→·*+–-]|\(?[a-z0-9]{1,4}[).]\s)")
_ENDS = re.compile(r"[.!?:;…][\"'”’)\]*]*\s*[\d,\s*]*$")


def junk_reason(sentence: str) -> str | None:
    """Why ``sentence`` is not running prose (``None`` when it is)."""
    text = " ".join(_NOISE.sub(" ", sentence).split())
    words = _WORD.findall(text)
    tokens = text.split()
    if len(tokens) < MIN_WORDS or len(words) < 4:
        return "fragment"
    if len(tokens) > MAX_WORDS:
        return "run-on"
    letters = sum(c.isalpha() for c in text)
    if letters < 0.6 * len(text):
        return "figures"
    numbers = sum(1 for t in tokens if _NUMBER.match(t.strip("()[],;:")))
    if numbers >= 5 and numbers > 0.25 * len(tokens):
        return "table"
    if _CAPTION.match(text) and (len(tokens) < 12 or re.match(r"\W*\w+\s*[\d.]*\s*[:–—-]", text)):
        return "caption"
    fragments = [w for w in words if len(w) <= 2 and w.lower() not in _SHORT_WORDS and not w.isupper()]
    no_vowel = [w for w in words if len(w) > 1 and not _VOWEL.search(w) and not w.isupper()]
    if len(fragments) + len(no_vowel) >= 3 and (len(fragments) + len(no_vowel)) > 0.15 * len(words):
        return "garbled"
    if len(_SOFT_HYPHEN_BREAK.findall(text)) >= 2:
        return "garbled"
    if len(_AUTHOR.findall(text)) >= 3:
        return "citation"
    if not any(w.islower() for w in words):
        return "header"
    low = text.lower()
    if any(w in low for w in _BOILERPLATE_WORDS) and _BOILERPLATE.search(text):
        return "boilerplate"
    if text[:1].islower() and not _ENDS.search(text) and not _BULLET.match(text):
        # Neither a start nor an end: the middle of a sentence whose head and tail are on other
        # lines or columns. (A short line with no full stop may be a headline that states an
        # obstacle, "Uncertainty over info sharing 'holds back care integration'", so a
        # capital start is kept.)
        return "cut-off"
    return None


def is_prose(sentence: str) -> bool:
    """A readable sentence of the document, worth classifying."""
    return junk_reason(sentence) is None
