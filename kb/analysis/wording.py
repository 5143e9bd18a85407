"""The words recurrence compares: stop words, the words that give a sentence a direction, a
crude stem. Shared by the pair scorer (``kb.analysis.claims``) and the reading of what a
sentence says about its subject (``kb.analysis.sentence_shape``), so neither imports the other."""
from __future__ import annotations

import re
from functools import lru_cache

STOP = frozenset("""a an and are as at be been being by for from has have had in into is it its of on or
should that the their there these this those to was we were which will with would our they must
can could may might also more most than then such other not no nor all any each both only very so
what when where who whom how why about after before over under between through during within without
across per via upon out up down off new use used using make made one two three well much many
recommend recommends recommended recommendation recommendations ensure ensures need needs needed
government department nhs england local report reports said says found find finds however including
include includes example key part way ways work working set sets within whilst while being
compared compare comparison previous
""".split())

# Words that give a sentence its direction. A pair where one side only says "more" and the
# other only "less" about the same topic is not one point.
UP = re.compile(r"\b(?:increas\w*|ris(?:e|es|ing|en)|rose|grow\w*|grew|higher|expand\w*|surplus\w*|"
                r"excess\w*|too many|oversuppl\w*|over-suppl\w*)\b", re.I)
DOWN = re.compile(r"\b(?:decreas\w*|fall\w*|fell|declin\w*|reduc\w*|cut|cuts|fewer|less|lower|shrink\w*|drop|drops|dropped|"
                  r"shortage\w*|shortfall\w*|lack\w*|insufficient|too few|scarc\w*|deteriorat\w*|"
                  # Negation points the same way: "not enough staff" is "a shortage of staff",
                  # "no evidence of savings" is the opposite of "growing evidence of savings".
                  r"not|no|never|none|cannot|can't|isn't|aren't|wasn't|weren't|without)\b", re.I)


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """A crude, fast stem: enough that "shortages"/"shortage" and "integrated"/"integration" meet."""
    word = word.strip("'-")
    for suffix in ("ations", "ation", "ings", "ing", "ies", "ied", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[:-len(suffix)][:7]
    return word[:7]
