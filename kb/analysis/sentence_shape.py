"""Is it a statement, and what does it say? Sentence shapes that decide whether two findings
can be one point, beyond the words they share.

Three shapes come up on real reports:

* **Headings and list fragments** ("Concerns about the use of productivity measures", "• the
  initial shortage of staff to process claims"): short, no closing full stop, no finite verb.
  They name a topic; they make no point, so they are never grouped.
* **Text run together**: a PDF page of two columns, or a heading glued to the sentence under
  it, leaves a capitalised sentence opener in mid-line ("… despite a £22 billion injection The
  early response …"). A few such lines in a document say its text layer reads across columns,
  so even its sentences that look whole may be two half-sentences (``read_across_documents``).
* **Subject and predicate**: "NHS staff numbers rose 4%" and "more NHS staff are new to the
  job" share their subject, not what they say about it. ``said_of`` gives the stems a sentence
  uses to say something (outside every subject, and not a mere modifier), from spaCy's parse;
  the grouping asks for it only on the few pairs whose score sits just above the threshold.
"""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from functools import lru_cache

from kb.analysis.wording import DOWN, STOP, UP, stem

HEADING_WORDS = 12  # a fragment this short without a full stop or a finite verb is a heading
_ENDS = re.compile(r"[.!?…][\"'”’)\]]*\s*[\d,\s*]*$")
_BULLET = re.compile(r"^\W+")
FINITE = frozenset({"VBD", "VBZ", "VBP", "MD"})
# A finite verb seen without the tagger (the tagger runs only on fragments without one).
_AUXILIARY = re.compile(r"\b(?:is|are|was|were|has|have|had|will|would|can|could|may|might|must|should|shall|"
                        r"does|do|did|cannot|isn't|aren't|wasn't|weren't|hasn't|haven't|won't|can't)\b", re.I)
# A lower-case word, then a capitalised opener and a lower-case word: two lines run together
# ("injection The early response", "stepped up In short", "communities and Despite the scale").
RUN_TOGETHER = re.compile(
    r"(?<![.:;!?•●\"“(])\b[a-z]{2,},? (?:The|A|An|In|It|This|That|For|As|If|On|At|By|To|With|Since|Despite|"
    r"While|Whilst|When|But|So|Our|We|They|There|These|Having|And|Is|Are|Was|Were|However)\s+[a-z]")
READ_ACROSS_LINES = 2  # a document with at least this many run-together findings …
READ_ACROSS_SHARE = 0.05  # … making up at least this share of them reads across columns
# Dependency labels of words that only qualify another ("regulatory" system, "NHS" staff).
MODIFIERS = frozenset({"amod", "compound", "nmod", "poss", "det", "nummod", "quantmod", "predet", "case", "punct"})
SUBJECTS = frozenset({"nsubj", "nsubjpass", "csubj", "csubjpass"})


def _model():
    from nlp.parse import statistical_model

    return statistical_model()


@lru_cache(maxsize=50_000)
def is_heading(text: str) -> bool:
    """A heading or list fragment, not a statement: at most ``HEADING_WORDS`` words, no
    closing full stop, no finite verb, and not an instruction (a recommendation's list item
    starts with its verb: "clarify the rules on …")."""
    bare = _BULLET.sub("", text).strip()
    if not bare or len(bare.split()) > HEADING_WORDS or _ENDS.search(bare) or _AUXILIARY.search(bare):
        return False
    doc = _model()(bare)
    if any(t.tag_ in FINITE for t in doc):
        return False
    return doc[0].tag_ != "VB"


def runs_together(text: str) -> bool:
    """Two lines read as one: a capitalised sentence opener after a lower-case word."""
    return bool(RUN_TOGETHER.search(text))


def read_across_documents(doc_ids: list[str], texts: list[str]) -> frozenset[str]:
    """Documents whose text reads two columns across: at least ``READ_ACROSS_LINES`` of their
    sentences, and ``READ_ACROSS_SHARE`` of them, run two lines together."""
    total: Counter[str] = Counter(doc_ids)
    joined: dict[str, int] = defaultdict(int)
    for doc, text in zip(doc_ids, texts):
        if runs_together(text):
            joined[doc] += 1
    return frozenset(d for d, n in joined.items() if n >= READ_ACROSS_LINES and n >= READ_ACROSS_SHARE * total[d])


@lru_cache(maxsize=50_000)
def said_of(text: str) -> frozenset[str]:
    """Stems of the words a sentence says something with: outside every subject ("NHS staff
    numbers" in "NHS staff numbers have increased"), and heads rather than modifiers
    ("regulatory" in "regulatory actors") unless they carry a direction ("increased
    admissions"). "There are more staff new to the job": no subject, so all of it."""
    doc = _model()(text)
    inside = set()
    for tok in doc:
        if tok.dep_ in SUBJECTS:
            inside.update(t.i for t in tok.subtree)
    out = set()
    for tok in doc:
        word = tok.lower_.strip("'-’")
        if tok.i in inside or len(word) < 3 or not word.isalpha() or word in STOP:
            continue
        if tok.dep_ in MODIFIERS and not (UP.fullmatch(word) or DOWN.fullmatch(word)):
            continue
        out.add(stem(word))
    return frozenset(out)
