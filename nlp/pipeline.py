"""The extraction pipeline: a blank English spaCy pipeline with Refrain's rule components.

Components (namespaced factories, configured with registered pattern loaders):

* ``refrain_sentences`` sets sentence starts from the layout-aware rules of ``nlp.segment``;
* ``refrain_funding`` finds pound amounts → ``doc.spans["refrain_funding"]``;
* ``refrain_responses`` finds government response statements → ``doc.spans["refrain_responses"]``;
* ``refrain_recommendations`` finds formal recommendations → ``doc.spans["refrain_recommendations"]``;
* ``refrain_barriers`` finds and themes barrier sentences → ``doc.spans["refrain_barriers"]``.

Each span carries its record in a span extension (``span._.refrain_funding`` ...). The
statistical model (``nlp.parse``) runs only on the recommendation and funding sentences;
the sentence embedder only on barrier candidates (those the trained model's lexical gate
passes), in one batch per document.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import nlp.spacy_import  # noqa: F401  (before spaCy: see its docstring)
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import registry

from nlp import budget
from nlp.barrier_model import cue_feature_names, cue_features
from nlp.barrier_model import load_model as load_barrier_model
from nlp.barrier_tuned import artefact_path, barrier_choice
from nlp.barriers import (Taxonomy, action_start, is_candidate, load_taxonomy, score_sentences, skipped_blocks,
                          theme_vectors)
from nlp.columns import crosses
from nlp.layout import Layout, build_layout
from nlp.models import SourceDocument
from nlp.funding import Figure, FundingLimits, final_subjects, find_figures, specific_subject
from nlp.money import FundingPatterns, clean_subject, load_funding_patterns
from nlp.recommendations import (RecCandidate, RecPatterns, actor_by_rules, find_recommendations,
                                 is_directive, load_recommendation_patterns, named_actor)
from nlp.responses import ResponseCandidate, ResponsePatterns, find_responses, load_response_patterns
from nlp.segment import SentSpan, sentence_spans, split_text, without_inner_marks
from nlp.sentence_quality import is_prose

log = logging.getLogger(__name__)

SPANS_FUNDING = "refrain_funding"
SPANS_RECOMMENDATIONS = "refrain_recommendations"
SPANS_RESPONSES = "refrain_responses"
SPANS_BARRIERS = "refrain_barriers"


# --- extensions ----------------------------------------------------------------------------

def _register_extensions() -> None:
    for name in ("refrain_layout", "refrain_sents"):
        if not Doc.has_extension(name):
            Doc.set_extension(name, default=None)
    for name in ("refrain_funding", "refrain_recommendation", "refrain_response", "refrain_barrier"):
        if not Span.has_extension(name):
            Span.set_extension(name, default=None)


_register_extensions()


@dataclass
class FundingRecord:
    amount_gbp: float
    mention: str
    subject: str | None
    period: str | None
    kind: str
    sentence_start: int
    sentence_end: int
    per_unit: bool


@dataclass
class BarrierRecord:
    theme: str
    themes: list[str]
    score: float
    # The sentence as classified and quoted: without footnote numbers glued inside it
    # ('behaviour;34 a lack'). The span holds whole tokens, so where the sentence ends before a
    # number glued to its full stop ('research.55', one token) its text would carry it again.
    text: str = ""


# --- registered pattern loaders ---------------------------------------------------------------

@registry.misc("refrain.funding_patterns.v1")
def funding_patterns_v1(path: str | None = None) -> FundingPatterns:
    return load_funding_patterns(path)


@registry.misc("refrain.recommendation_patterns.v1")
def recommendation_patterns_v1(path: str | None = None) -> RecPatterns:
    return load_recommendation_patterns(path)


@registry.misc("refrain.response_patterns.v1")
def response_patterns_v1(path: str | None = None) -> ResponsePatterns:
    return load_response_patterns(path)


@registry.misc("refrain.barrier_taxonomy.v1")
def barrier_taxonomy_v1(path: str | None = None) -> Taxonomy:
    return load_taxonomy(path)


# --- helpers -------------------------------------------------------------------------------

def doc_layout(doc: Doc) -> Layout:
    """The layout attached by ``extract`` or, for a Doc made from a plain string, a fresh one."""
    layout = doc._.refrain_layout
    if layout is not None and doc.user_data.get("refrain_layout_checked"):
        return layout  # Doc.text joins every token: compare it once per Doc, not once per component
    # ``run`` records the text the Doc was made from: comparing with ``doc.text`` would rebuild
    # the whole text token by token (20 s of a corpus ingest, profiled).
    if layout is None or (doc.user_data.get("refrain_text") is not layout.text and layout.text != doc.text):
        layout = build_layout(SourceDocument("<doc>", "text", [doc.text], False))
        if layout.text != doc.text:
            # The Doc was not made from a layout: treat the whole text as one block.
            from nlp.layout import Block

            layout = Layout(doc.text, [Block("para", 0, len(doc.text), None)], False, [0], [0], [None])
        doc._.refrain_layout = layout
    doc.user_data["refrain_layout_checked"] = True
    return layout


def doc_sents(doc: Doc) -> list[SentSpan]:
    if doc._.refrain_sents is None:
        doc._.refrain_sents = sentence_spans(doc_layout(doc))
    return doc._.refrain_sents


def _for_parser(sentence: str) -> str:
    """The sentence with PDF artefacts the tagger trips over mended, offsets unchanged:
    'bil ion' → 'billion', a footnote number glued to a word ('doctors.13') blanked, and
    Markdown emphasis ('Changes at** **NHS England') blanked."""
    sentence = re.sub(r"\b(bil|mil|tril) ion\b", lambda m: m.group(1) + "lion", sentence)
    sentence = re.sub(r"\*\*|__", "  ", sentence)
    sentence = re.sub(r"\\(?=[()\[\]*_#.\-])", " ", sentence)  # Markdown escapes: '\(with' → ' (with'
    return re.sub(r"(?<=[a-z][.,;:])\d{1,3}(?=\s|$)", lambda m: " " * len(m.group(0)), sentence)


def _char_span(doc: Doc, start: int, end: int, label: str) -> Span | None:
    return doc.char_span(start, end, label=label, alignment_mode="expand")


# --- components ----------------------------------------------------------------------------

@Language.component("refrain_sentences")
def refrain_sentences(doc: Doc) -> Doc:
    """Sentence starts from the layout rules (no parser)."""
    import numpy as np
    from spacy.attrs import SENT_START

    from spacy.attrs import IDX

    if len(doc) == 0:
        return doc
    starts = np.fromiter((s.start for s in doc_sents(doc)), dtype="int64")
    # One array write: setting token.is_sent_start one by one is quadratic in spaCy; token
    # offsets come as an array too (no Token object per token).
    idx = doc.to_array([IDX]).astype("int64")
    values = np.where(np.isin(idx, starts), 1, -1)
    values[0] = 1
    doc.from_array([SENT_START], values.reshape(-1, 1).astype("int64").astype("uint64"))
    return doc


@Language.factory(
    "refrain_funding",
    default_config={"patterns": {"@misc": "refrain.funding_patterns.v1"}, "use_parser": True,
                    "max_items": FundingLimits.max_items, "max_parsed": FundingLimits.max_parsed},
)
def make_funding(nlp: Language, name: str, patterns: FundingPatterns, use_parser: bool,
                 max_items: int = FundingLimits.max_items, max_parsed: int = FundingLimits.max_parsed
                 ) -> "FundingComponent":
    return FundingComponent(patterns, use_parser, FundingLimits(max_items=max_items, max_parsed=max_parsed))


class FundingComponent:
    """Every pound amount, with its subject, period and kind (``nlp.funding``), in time linear
    in the document; limits hit are listed in ``doc.user_data["refrain_notes"]``."""

    def __init__(self, patterns: FundingPatterns, use_parser: bool = True,
                 limits: FundingLimits = FundingLimits()) -> None:
        self.patterns = patterns
        self.use_parser = use_parser
        self.limits = limits

    def __call__(self, doc: Doc) -> Doc:
        layout = doc_layout(doc)
        text = layout.text  # the Doc's text, without rebuilding it (Doc.text joins every token)
        blocks = [(b.start, b.end) for b in layout.blocks]
        found = find_figures(text, doc_sents(doc), self.patterns, self.limits, blocks)
        spans: list[Span] = []
        need_parse: list[tuple[Span, Figure]] = []
        placed: list[tuple[Span, Figure]] = []
        for fig in found.figures:
            span = _char_span(doc, fig.start, fig.end, "FUNDING")
            if span is None:
                continue
            m = fig.mention
            span._.refrain_funding = FundingRecord(
                amount_gbp=m.amount, mention=m.surface, subject=fig.subject, period=fig.period, kind=fig.kind,
                sentence_start=fig.sentence_start, sentence_end=fig.sentence_end, per_unit=m.per_unit,
            )
            spans.append(span)
            placed.append((span, fig))
            if not fig.certain:
                need_parse.append((span, fig))
        if self.use_parser and need_parse:
            self._parse_subjects(text, need_parse, found.notes)
        finished = final_subjects([fig for _, fig in placed], [span._.refrain_funding.subject for span, _ in placed], text)
        for (span, _), subject in zip(placed, finished):
            span._.refrain_funding.subject = subject
        doc.spans[SPANS_FUNDING] = spans
        if found.notes:
            doc.user_data.setdefault("refrain_notes", []).extend(found.notes)
        return doc

    def _parse_subjects(self, text: str, need_parse: list[tuple[Span, Figure]], notes: list[str]) -> None:
        """Subjects read from the parse, for at most ``max_parsed`` distinct texts (a view
        repeated a thousand times is parsed once); the rest keep their surface subject."""
        from nlp.parse import funding_subject, parse

        texts: dict[str, None] = {}
        for _, fig in need_parse:
            key = fig.view[:2000]
            if key not in texts and len(texts) >= self.limits.max_parsed:
                continue
            texts.setdefault(key, None)
        skipped = sum(1 for _, fig in need_parse if fig.view[:2000] not in texts)
        if skipped:
            notes.append(f"funding: {skipped} figures kept their rule-based subject (limit max_parsed "
                         f"{self.limits.max_parsed} parsed sentences)")
        keys = list(texts)
        parsed = dict(zip(keys, parse(_for_parser(k) for k in keys)))
        for span, fig in need_parse:
            key = fig.view[:2000]
            pdoc = parsed.get(key)
            if pdoc is None:
                continue
            a, b = fig.mention.start, fig.mention.end
            subject = clean_subject(funding_subject(pdoc, a, b)) if b <= len(key) else None
            before = text[max(0, fig.view_start - 600):fig.view_start]
            if subject is None:
                subject = _subject_from_context(fig.view, before[-300:])
            subject = specific_subject(fig.view, fig.mention, subject or span._.refrain_funding.subject, before)
            if subject:
                span._.refrain_funding.subject = subject


GENERIC_LEAD = re.compile(r"^\W*(?:the\s+|this\s+|total\s+|overall\s+)*(spend|spending|costs?|savings?|expenditure|funding)\b",
                          re.I)


def _subject_from_context(sentence: str, context: str) -> str | None:
    """'... continued reductions in agency spending. Spend has reduced from £3.5bn ...':
    a sentence that opens with a bare 'Spend' / 'Costs' takes the qualified phrase the
    previous sentence used for the same thing ('agency spending')."""
    m = GENERIC_LEAD.match(sentence)
    if not m or not context:
        return None
    stem = m.group(1).lower()[:4]
    found = None
    for c in re.finditer(rf"((?:[A-Za-z][\w\-]*\s+){{1,3}}){stem}\w*\b", context, re.I):
        found = c
    if found is None:
        return None
    words = found.group(0).split()
    stop = {"the", "a", "an", "in", "on", "of", "to", "for", "and", "reductions", "reduction", "continued",
            "increase", "increases", "total", "overall", "has", "have", "had", "is", "was", "by", "with", "from"}
    while words[:-1] and words[0].lower() in stop:
        words = words[1:]
    return clean_subject(" ".join(words)) if len(words) >= 2 else None


@Language.factory(
    "refrain_responses",
    default_config={"patterns": {"@misc": "refrain.response_patterns.v1"}},
)
def make_responses(nlp: Language, name: str, patterns: ResponsePatterns) -> "ResponseComponent":
    return ResponseComponent(patterns)


class ResponseComponent:
    """Government response statements, linked to the recommendation they answer."""

    def __init__(self, patterns: ResponsePatterns) -> None:
        self.patterns = patterns

    def __call__(self, doc: Doc) -> Doc:
        spans = []
        for cand in find_responses(doc_layout(doc), doc_sents(doc), self.patterns):
            span = _char_span(doc, cand.start, cand.end, "RESPONSE")
            if span is not None:
                span._.refrain_response = cand
                spans.append(span)
        doc.spans[SPANS_RESPONSES] = spans
        return doc


@Language.factory(
    "refrain_recommendations",
    default_config={"patterns": {"@misc": "refrain.recommendation_patterns.v1"}, "use_parser": True},
)
def make_recommendations(nlp: Language, name: str, patterns: RecPatterns,
                         use_parser: bool) -> "RecommendationComponent":
    return RecommendationComponent(patterns, use_parser)


class RecommendationComponent:
    """Formal recommendations; none in a response document (those are the other body's)."""

    def __init__(self, patterns: RecPatterns, use_parser: bool = True) -> None:
        self.patterns = patterns
        self.use_parser = use_parser

    def __call__(self, doc: Doc) -> Doc:
        if doc.spans.get(SPANS_RESPONSES):
            doc.spans[SPANS_RECOMMENDATIONS] = []
            return doc
        cands = budget.cap("recommendations", find_recommendations(doc_layout(doc), doc_sents(doc), self.patterns))
        directive_sentences = [self._directive_sentence(c.raw or c.text) for c in cands]
        if self.use_parser and cands:
            from nlp.parse import actor_from_doc, parse

            for cand, pdoc, sentence in zip(cands, parse(directive_sentences), directive_sentences):
                cand.actor = actor_from_doc(pdoc)
                ruled = actor_by_rules(sentence)
                if cand.actor and ruled and ruled != cand.actor and ruled.endswith(cand.actor) \
                        and len(ruled.split()) <= 12 and re.match(r"^[\w&’'.\- ]+\s+(?:and|&)\s+", ruled):
                    cand.actor = ruled  # 'DHSC and NHS England should': the parse lost a conjunct
                named = named_actor(sentence)
                if named and (cand.actor is None or len(cand.actor.split()) > len(named.split()) + 3
                              or "," in cand.actor and "," not in named):
                    cand.actor = named
        else:
            for cand, sentence in zip(cands, directive_sentences):
                cand.actor = actor_by_rules(sentence)
        spans = []
        for cand in cands:
            span = _char_span(doc, cand.start, cand.end, "RECOMMENDATION")
            if span is not None:
                span._.refrain_recommendation = cand
                spans.append(span)
        doc.spans[SPANS_RECOMMENDATIONS] = spans
        return doc

    def _directive_sentence(self, text: str) -> str:
        """The first sentence that asks someone to act (titles run into it are cut off)."""
        from nlp.recommendations import strip_marker

        for part in text.split("\n\n"):
            part = strip_marker(part)
            for a, b in split_text(part):
                sentence = part[a:b]
                if is_directive(sentence, self.patterns):
                    return sentence[:600]
        return strip_marker(text)[:600]


# A sentence that is itself a question (not one that ends by quoting one): every question in
# the labelled pool was read as no barrier
QUESTION = re.compile(r"\W*(?:(?:and|but|so|yet|then)\W+)?(?:what|why|how|which|who|whom|whose|where|when|whether|is|are|"
                      r"was|were|do|does|did|can|could|should|would|will|shall|has|have|had|may|might|must|to\s+what)"
                      r"\b[^\n]*\?[\W]*$", re.I | re.S)


@Language.factory(
    "refrain_barriers",
    default_config={"taxonomy": {"@misc": "refrain.barrier_taxonomy.v1"}, "threshold": None, "use_parser": True,
                    "model": "default"},
)
def make_barriers(nlp: Language, name: str, taxonomy: Taxonomy, threshold: float | None,
                  use_parser: bool, model: str | None) -> "BarrierComponent":
    return BarrierComponent(taxonomy, threshold, use_parser=use_parser, model=model)


class BarrierComponent:
    """Barrier sentences with a theme and a score; embeds candidates in one batch.

    With a trained model (``model``: "default" for ``nlp/data/barrier_model.npz``, a path, or
    None for the cue rules alone) every readable sentence is gated by the model's cheap
    lexical part and the survivors classified from their embedding; otherwise the cue rules
    and seed similarity of ``nlp.barriers`` decide. A model trained on other themes than the
    taxonomy's is not used (retrain after editing the themes).
    """

    def __init__(self, taxonomy: Taxonomy, threshold: float | None = None, embedder=None,
                 use_parser: bool = True, model: str | None = "default") -> None:
        self.taxonomy = taxonomy
        self.use_parser = use_parser
        self.model = _barrier_model(model, taxonomy)
        # The fine-tuned model (nlp/barrier_tuned.py) replaces the frozen heads where it can run
        # (KB_BARRIER_MODEL, ``configure_barriers``); the frozen model's gate stays in front of it.
        self.tuned = _tuned_barriers(taxonomy) if self.model is not None and model == "default" else None
        self._threshold = threshold
        default = self.model.threshold if self.model is not None else taxonomy.setting("threshold", 0.5)
        self.threshold = threshold if threshold is not None else default
        if self.tuned is not None and threshold is None:
            self.threshold = self.tuned.model.threshold
        self.embedder = embedder

    def _sentences(self, doc: Doc) -> list[SentSpan]:
        """Sentences outside bibliographies and short unlabelled headings."""
        layout = doc_layout(doc)
        text = layout.text
        out: list[SentSpan] = []
        skip = skipped_blocks(layout, self.taxonomy)
        across = 0
        for s in doc_sents(doc):
            if skip[s.block]:
                continue
            if layout.suspect_joins and (crosses(layout.suspect_joins, s.start, s.end) or text[s.start].islower()):
                across += 1  # lines of two columns joined into one 'sentence' (word salad), or the tail of
                continue  # a sentence whose head is lines away ('ence they gathered …' after 'the evid-')
            if budget.too_long("barrier_sentences_too_long", s.end - s.start):
                continue  # a table or run-on line read as one sentence: not a finding, not embedded
            if layout.blocks[s.block].kind == "heading" and layout.blocks[s.block].label is None \
                    and len(text[s.start:s.end].split()) < 8:
                continue
            if QUESTION.match(text, s.start, s.end):
                continue  # 'Why does measuring NHS productivity matter?' asks; it states no obstacle
            out.append(s)
        if across:
            doc.user_data.setdefault("refrain_notes", []).append(
                f"barriers: the text reads side-by-side columns across the page; {across} sentences that join "
                f"lines of different columns, or begin in the middle of one, were not classified")
        return out

    def _embedder(self):
        if self.embedder is None:
            from nlp.embed import shared_embedder

            return shared_embedder()
        return self.embedder

    def __call__(self, doc: Doc) -> Doc:
        if self.model is not None:
            return self._classify(doc)
        text = doc_layout(doc).text
        cands = budget.cap("barrier_candidates",
                           [s for s in self._sentences(doc) if is_candidate(text[s.start:s.end], self.taxonomy)])
        spans = []
        if cands:
            embedder = self._embedder()
            sentences = [without_inner_marks(text[s.start:s.end]) for s in cands]
            vectors = embedder.encode(sentences)
            scores = score_sentences(sentences, vectors, self.taxonomy, theme_vectors(self.taxonomy, embedder))
            quoted = {(s.start, s.end): q for s, q in zip(cands, sentences)}
            kept = [(s, sc) for s, sc in zip(cands, scores) if sc.score >= self.threshold]
            kept = self._drop_imperatives(text, kept)
            for s, sc in kept:
                span = _char_span(doc, s.start, s.end, "BARRIER")
                if span is not None:
                    span._.refrain_barrier = BarrierRecord(sc.theme, sc.themes, sc.score, quoted[s.start, s.end])
                    spans.append(span)
        doc.spans[SPANS_BARRIERS] = spans
        return doc

    def _classify(self, doc: Doc) -> Doc:
        """The trained model: quality filter, lexical gate, then the embedding heads."""
        model, text = self.model, doc_layout(doc).text
        sents = [s for s in self._sentences(doc) if is_prose(text[s.start:s.end])]
        sentences = [without_inner_marks(text[s.start:s.end]) for s in sents]  # read, and quoted, without marks
        gate = model.gate(sentences) if sentences else np.zeros(0)
        gate_threshold = self.tuned.model.gate_threshold if self.tuned is not None else model.gate_threshold
        passed = budget.cap("barrier_candidates", [i for i in np.flatnonzero(gate >= gate_threshold)])
        spans = []
        if passed:
            chosen = [sentences[i] for i in passed]
            raw = np.stack([cue_features(s, self.taxonomy) for s in chosen])
            tuned = self._tuned_predict(chosen, raw)
            if tuned is None:
                preds = model.predict(self._embedder().encode(chosen), (raw - model.cue_mean) / model.cue_scale,
                                      gate[passed])
            else:
                # Barrier or not from the tuned layers; themes from the frozen theme heads over the
                # barriers' vectors, which learn from the taxonomy's seeds too (the tuned head's own
                # themes: dev-gold themed recall 0.49 against 0.80; README "Fourth round (issue 14)").
                tuned_preds, rows, vectors = tuned
                themed = model.predict(vectors, (raw[rows] - model.cue_mean) / model.cue_scale) if rows else []
                passed, preds = [passed[i] for i in rows], [replace(f, probability=tuned_preds[i].probability)
                                                            for i, f in zip(rows, themed)]
            kept = [(i, p) for i, p in zip(passed, preds) if p.probability >= self.threshold]
            for i, p in kept:
                span = _char_span(doc, sents[i].start, sents[i].end, "BARRIER")
                if span is not None:
                    span._.refrain_barrier = BarrierRecord(p.themes[0], p.themes[:3], round(p.probability, 4),
                                                           sentences[i])
                    spans.append(span)
        doc.spans[SPANS_BARRIERS] = spans
        return doc

    def _tuned_predict(self, sentences: list[str], raw_cues: np.ndarray):
        """(the tuned model's predictions, indices of the barriers, their base vectors), or None:
        no tuned model, or its ONNX models could not be made here (then the frozen model is used
        from now on, with a log line)."""
        if self.tuned is None:
            return None
        cues = (raw_cues - self.tuned.model.cue_mean) / self.tuned.model.cue_scale
        try:
            return self.tuned.predict(sentences, cues, self._embedder(), self.threshold)
        except Exception as exc:
            if self.tuned._encoder is not None:
                raise  # the model runs here: a real failure, not a missing piece
            log.warning("tuned barrier model unavailable (%s: %s): using the frozen model",
                        type(exc).__name__, exc)
            self.tuned = None
            self.threshold = self._threshold if self._threshold is not None else self.model.threshold
            return None

    def _drop_imperatives(self, text: str, kept: list) -> list:
        """Drop action bullets ('• Address urgent recruitment pressures'): the tagger reads
        their first word as a base-form verb. Only sentences opening with a listed action
        verb are tagged, so the statistical model sees a handful of sentences."""
        if not self.use_parser:
            return kept
        maybe = [i for i, (s, _) in enumerate(kept) if action_start(text[s.start:s.end], self.taxonomy)]
        if not maybe:
            return kept
        from nlp.parse import parse

        drop = set()
        lead = re.compile(r"^[\s●•▪■◦‣▶►✓➢→·\-–—*+]*")
        for i, pdoc in zip(maybe, parse(lead.sub("", text[kept[i][0].start:kept[i][0].end])[:300] for i in maybe)):
            first = next((t for t in pdoc if not t.is_punct and not t.is_space), None)
            if first is not None and first.tag_ == "VB" and first.dep_ not in ("nsubj", "nsubjpass", "csubj"):
                drop.add(i)
        return [k for i, k in enumerate(kept) if i not in drop]


def _tuned_barriers(taxonomy: Taxonomy):
    """The tuned classifier when chosen (``nlp.barrier_tuned.configure_barriers``) and runnable
    here, else None (the frozen model)."""
    if barrier_choice() != "tuned":
        return None
    from nlp.barrier_onnx import tuned_barriers

    return tuned_barriers(taxonomy, artefact_path("barrier_tuned.npz"))


def _barrier_model(model: str | None, taxonomy: Taxonomy):
    """The trained barrier model to use with ``taxonomy``, or None (cue rules)."""
    if not model:
        return None
    loaded = load_barrier_model(artefact_path("barrier_model.npz") if model == "default" else model)
    if loaded is None:
        return None
    if loaded.themes != taxonomy.ids or len(loaded.cue_mean) != len(cue_feature_names(taxonomy)):
        log.warning("barrier model was trained on themes %s, the taxonomy has %s: using the cue rules "
                    "(run `kb train-barriers` after editing the themes)", loaded.themes, taxonomy.ids)
        return None
    return loaded


# --- pipeline ------------------------------------------------------------------------------

def build_pipeline(*, use_parser: bool = True, barriers: bool = True,
                   patterns_dir: str | Path | None = None) -> Language:
    """A blank English pipeline with the Refrain components.

    ``patterns_dir`` points the components at other copies of the data files (same names
    as in ``nlp/data``), so users can extend the rules without editing the package.
    """
    import spacy

    nlp = spacy.blank("en")
    nlp.max_length = 50_000_000

    def cfg(name: str, key: str) -> dict:
        if patterns_dir is None:
            return {}
        return {key: {"@misc": f"refrain.{name}.v1", "path": str(Path(patterns_dir) / f"{name_file[name]}")}}

    name_file = {
        "funding_patterns": "funding_patterns.json",
        "recommendation_patterns": "recommendation_patterns.json",
        "response_patterns": "response_patterns.json",
        "barrier_taxonomy": "themes.json",
    }
    nlp.add_pipe("refrain_sentences")
    nlp.add_pipe("refrain_funding", config={**cfg("funding_patterns", "patterns"), "use_parser": use_parser})
    nlp.add_pipe("refrain_responses", config=cfg("response_patterns", "patterns"))
    nlp.add_pipe("refrain_recommendations",
                 config={**cfg("recommendation_patterns", "patterns"), "use_parser": use_parser})
    if barriers:
        nlp.add_pipe("refrain_barriers", config={**cfg("barrier_taxonomy", "taxonomy"), "use_parser": use_parser})
    return nlp


def run(nlp: Language, layout: Layout, embedder=None) -> Doc:
    """Run ``nlp`` over a laid-out document (the Doc text is the clean layout text)."""
    doc = nlp.make_doc(layout.text)
    doc._.refrain_layout = layout
    doc.user_data["refrain_text"] = layout.text  # the Doc's text, without rebuilding it (doc_layout)
    if embedder is not None and "refrain_barriers" in nlp.pipe_names:
        nlp.get_pipe("refrain_barriers").embedder = embedder
    for name, proc in nlp.pipeline:
        budget.check(name.replace("refrain_", "extraction: "))
        doc = proc(doc)
    return doc


__all__ = [
    "SPANS_FUNDING", "SPANS_RECOMMENDATIONS", "SPANS_RESPONSES", "SPANS_BARRIERS",
    "FundingRecord", "BarrierRecord", "RecCandidate", "ResponseCandidate",
    "build_pipeline", "run", "doc_layout", "doc_sents",
]
