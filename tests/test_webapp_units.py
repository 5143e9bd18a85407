"""The web app's plain logic, without a knowledge base: facet counts, parameter checks,
snippets, dates and the timeline's geometry."""
from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict

from kb.search.facets import FacetValue, facet_counts, facet_values, facets_json
from kb.search.engine import Hit
from webapp.params import ParamError, SearchParams, check_page, parse_search
from webapp.present import human_date, is_web_url, money, rec_label, snippet
from webapp.timeline import layout, story


def hit(source="nao", published="2017-02-08", themes=(), doc_type="report") -> Hit:
    return Hit(doc_id="d", title="t", source=source, url="https://example.org", published=published, page=None,
               text="x", score=1.0, doc_type=doc_type, themes=list(themes))


# --- facets ----------------------------------------------------------------------------------

def test_a_researcher_sees_where_the_hits_come_from():
    hits = [hit("nao", "2014-11-19", ["information_sharing"]), hit("nao", "2017-03-30", ["workforce"]),
            hit("govuk", "2017-05-01", ["information_sharing", "workforce"]), hit("local", None, [], None)]
    counts = facet_counts(hits)
    assert counts["source"] == [FacetValue("nao", 2), FacetValue("govuk", 1), FacetValue("local", 1)]
    # A passage stating two barriers counts under both themes.
    assert counts["theme"] == [FacetValue("information_sharing", 2), FacetValue("workforce", 2)]
    # Years newest first; an undated hit has no year to count.
    assert counts["year"] == [FacetValue("2017", 2), FacetValue("2014", 1)]
    assert counts["doc_type"] == [FacetValue("report", 3)]
    assert facets_json(counts)["source"] == {"nao": 2, "govuk": 1, "local": 1}


def test_facets_of_no_hits_are_empty_and_unknown_facets_are_refused():
    assert facet_counts([]) == {"source": [], "theme": [], "year": [], "doc_type": []}
    with pytest.raises(ValueError, match="unknown facet"):
        facet_values([hit()], "colour")


# --- parameters ------------------------------------------------------------------------------

def test_a_search_url_is_read_into_typed_parameters_and_back():
    args = MultiDict({"q": " information governance ", "theme": "information_sharing", "source": "nao",
                      "from": "2014", "to": "2022", "type": "report", "page": "2", "k": "20"})
    params = parse_search(args)
    assert params == SearchParams("information governance", "information_sharing", "nao", 2014, 2022, "report", 2, 20)
    assert params.filters.active
    assert params.args() == {"q": "information governance", "theme": "information_sharing", "source": "nao",
                             "from": 2014, "to": 2022, "type": "report", "k": 20, "page": 2}
    # Empty form fields mean "any"; defaults are left out of links.
    assert parse_search(MultiDict({"q": "x", "from": "", "theme": "", "page": ""})).args() == {"q": "x"}


def test_every_problem_of_a_request_is_reported_at_once():
    with pytest.raises(ParamError) as caught:
        parse_search(MultiDict({"q": "x", "theme": "money", "from": "14", "to": "3000", "k": "0"}))
    fields = [field for field, _ in caught.value.errors]
    assert fields == ["theme", "from", "to", "k"]
    assert caught.value.code == 400
    assert "information_sharing" in caught.value.description  # says what would be accepted


def test_a_page_past_the_last_says_how_many_there_are():
    check_page(1, 0)  # an empty result still has a first page
    with pytest.raises(ParamError, match="there are 3 pages"):
        check_page(4, 3)


# --- presentation ------------------------------------------------------------------------------

@pytest.mark.parametrize("value, shown", [
    ("2017-02-08", "8 February 2017"), ("2017-02", "February 2017"), ("2017", "2017"), (None, "undated"),
    ("not a date", "not a date"),
])
def test_dates_read_as_people_write_them(value, shown):
    assert human_date(value) == shown


@pytest.mark.parametrize("amount, shown", [(3.8e9, "£3.8 billion"), (116e9, "£116 billion"),
                                           (2.5e6, "£2.5 million"), (3000, "£3,000"), (12.5, "£12.50")])
def test_money(amount, shown):
    assert money(amount) == shown


@pytest.mark.parametrize("label, shown", [("1", "Recommendation 1"), ("3a", "Recommendation 3a"), ("(b)", "Recommendation b"),
                                          ("Recommendation 4", "Recommendation 4"), (None, "")])
def test_recommendation_labels(label, shown):
    assert rec_label(label) == shown


def test_only_web_addresses_become_links():
    assert is_web_url("https://www.nao.org.uk/x") and is_web_url("http://example.org")
    assert not is_web_url("file:///home/me/notes.md") and not is_web_url("javascript:alert(1)")
    assert not is_web_url(None)


def test_a_short_passage_is_shown_whole_keeping_its_headings_apart():
    assert snippet("Barriers\nOne  sentence. Two   more.", ["one"]) == ("Barriers\nOne sentence. Two more.", False, False)


def test_a_long_passage_is_cut_to_the_sentences_that_match_and_never_starts_on_a_heading():
    filler = " ".join(f"Sentence number {i} says nothing much." for i in range(30))
    text = f"{filler}\nBarriers\nInformation governance is still a barrier to sharing records.\n{filler}"
    shown, before, after = snippet(text, ["information governance"], limit=200)
    assert shown.startswith("Information governance is still a barrier")
    assert "Barriers" not in shown and len(shown) <= 200
    assert before and after


# --- timeline ------------------------------------------------------------------------------

def occ(published, doc="d", rid="r"):
    return {"published": published, "doc_id": doc, "recommendation_id": rid, "title": "t", "page": None}


def test_the_timeline_puts_years_in_order_along_the_axis_and_stacks_a_repeated_year():
    occurrences = [occ("2014-11-19", rid="a"), occ("2017-03-30", rid="b"), occ("2017-06-01", rid="c"),
                   occ("2022-10-12", rid="d"), occ(None, rid="e")]
    t = layout(occurrences, href=lambda o: f"/documents/{o['doc_id']}#rec-{o['recommendation_id']}",
               label=lambda o: o["published"] or "undated")
    xs = [m.x for m in t.marks]
    assert xs[0] < xs[1] == xs[2] < xs[3]
    assert t.marks[1].y != t.marks[2].y  # same year: stacked, not drawn on top of each other
    assert all(m.y < t.axis_y for m in t.marks) and t.height > t.axis_y
    assert [m.href for m in t.marks] == ["/documents/d#rec-a", "/documents/d#rec-b", "/documents/d#rec-c",
                                         "/documents/d#rec-d"]
    assert [m.index for m in t.marks] == [1, 2, 3, 4]
    assert t.marks[0].first and not any(m.first for m in t.marks[1:])
    assert [tk.year for tk in t.ticks] == list(range(2014, 2023))
    assert {tk.year for tk in t.ticks if tk.active} == {2014, 2017, 2022}
    assert t.undated == [occurrences[-1]]


def test_a_single_year_sits_mid_axis_and_no_dates_draw_nothing():
    t = layout([occ("2018-01-01"), occ("2018-05-01")], href=lambda o: "#", label=lambda o: "")
    assert t.marks[0].x == pytest.approx((t.x0 + t.x1) / 2)
    assert layout([occ(None)], href=lambda o: "#", label=lambda o: "").empty


def test_the_story_of_a_recurring_recommendation():
    assert story([2014, 2017, 2018, 2022]) == "First said in 2014, repeated in 2017, 2018 and 2022."
    assert story([2014, 2017]) == "First said in 2014, repeated in 2017."


# --- charts, responses on the timeline, funding links, colours --------------------------------------

from webapp.charts import bar_chart, nice_step  # noqa: E402
from webapp.params import FUNDING_PER_PAGE_DEFAULT, funding_args, parse_funding  # noqa: E402
from webapp.timeline import year_in  # noqa: E402


@pytest.mark.parametrize("top, step", [(1, 0.5), (4, 1), (7, 2), (18, 5), (116e9, 5e10), (0, 1)])
def test_grid_steps_are_round_numbers(top, step):
    assert nice_step(top) == step


def test_bars_stand_on_the_baseline_in_proportion_and_in_order():
    chart = bar_chart([("2014", 2), ("2015", 0), ("2016", 4)])
    assert [b.label for b in chart.bars] == ["2014", "2015", "2016"]
    assert all(round(b.y + b.height, 1) == chart.y0 for b in chart.bars)
    assert chart.bars[2].height == pytest.approx(2 * chart.bars[0].height)
    assert chart.bars[1].height == 0
    assert chart.bars[0].x < chart.bars[1].x < chart.bars[2].x
    assert [g.text for g in chart.grid] == ["0", "1", "2", "3", "4"]
    assert chart.bars[-1].x + chart.bars[-1].width <= chart.x1


def test_a_chart_of_money_leaves_room_for_its_labels_and_an_empty_chart_says_so():
    from webapp.present import money

    chart = bar_chart([("2014", 3.8e9), ("2022", 116e9)], fmt=money, integer=False)
    assert chart.grid[-1].text == "£150 billion" and chart.x0 >= 8 * len("£150 billion")
    assert bar_chart([]).empty and bar_chart([("2014", 0)]).empty


def test_many_years_are_labelled_sparsely_but_every_bar_is_drawn():
    chart = bar_chart([(str(y), 1) for y in range(1990, 2025)], width=380)
    assert len(chart.bars) == 35
    labelled = [b for b in chart.bars if b.labelled]
    assert 3 <= len(labelled) < 35 and labelled[-1].label == "2024"


@pytest.mark.parametrize("text, year", [("March 2019", 2019), ("Spring 2018", 2018), ("2018/19", 2018),
                                        ("implemented", None), (None, None)])
def test_target_dates_are_read_for_their_year(text, year):
    assert year_in(text) == year


def test_responses_and_targets_sit_on_the_axis_and_widen_it():
    t = layout([occ("2014-11-19", rid="a"), occ("2018-06-27", rid="b")], href=lambda o: "#", label=lambda o: "",
               events=[(2018, "response", "/d#response-1", "accepted"), (2021, "target", "/d#response-1", "2021")])
    assert [e.kind for e in t.events] == ["response", "target"]
    assert all(e.y == t.axis_y for e in t.events)
    assert [tk.year for tk in t.ticks][-1] == 2021  # the axis reaches the target date
    mark_2018 = next(m for m in t.marks if m.year == 2018)
    assert t.events[0].x != mark_2018.x  # beside the occurrence's stem, not on top of it


def test_funding_links_keep_filters_and_leave_defaults_out():
    query, page, k = parse_funding(MultiDict({"kind": "spend", "sort": "year", "from": "2015"}))
    assert (page, k) == (1, FUNDING_PER_PAGE_DEFAULT)
    assert funding_args(query) == {"kind": "spend", "from": 2015, "sort": "year"}
    assert funding_args(query, 3, sort="amount", order="desc") == {"kind": "spend", "from": 2015, "page": 3}
    assert funding_args(query, 1, sort="amount", order="asc") == {"kind": "spend", "from": 2015, "order": "asc"}


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_shaded_table_cells_keep_text_readable():
    """WCAG AA: 4.5:1 for text on every shade of the barrier comparison table."""
    import re
    from pathlib import Path

    css = (Path(__file__).resolve().parents[1] / "webapp" / "static" / "style.css").read_text()
    variables = dict(re.findall(r"--([\w-]+):\s*(#[0-9a-f]{6})", css))
    shades = re.findall(r"\.heat-\d \{ background: (#[0-9a-f]{6});(?: color: ([^;]+);)?", css)
    assert len(shades) == 5
    for background, colour in shades:
        colour = (colour or "var(--text)").strip()
        colour = variables[colour[6:-1]] if colour.startswith("var(") else colour
        assert contrast(background, colour) >= 4.5, (background, colour)


def test_the_last_crawl_is_read_from_the_newest_crawl_log(tmp_path):
    import json
    import os

    from kb.analysis.documents import last_crawl_log

    assert last_crawl_log(tmp_path / "missing") is None and last_crawl_log(tmp_path) is None
    old, new = tmp_path / "20240101T000000Z.jsonl", tmp_path / "20250101T000000Z.jsonl"
    old.write_text(json.dumps({"status": "stored"}) + "\n")
    new.write_text("\n".join([json.dumps({"status": "stored"}), json.dumps({"status": "stored"}),
                              json.dumps({"status": "failed"}), "{not json"]) + "\n")
    os.utime(old, (1_700_000_000, 1_700_000_000))
    os.utime(new, (1_735_689_600, 1_735_689_600))  # 2025-01-01T00:00:00Z
    assert last_crawl_log(tmp_path) == {"finished_at": "2025-01-01T00:00:00Z",
                                        "statuses": {"stored": 2, "failed": 1, "unreadable": 1}}
