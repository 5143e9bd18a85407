"""Search passages stay on one page and within what the model reads (~256 word pieces)."""
from kb.index.passages import MAX_WORDS, split_passages


def test_each_pdf_page_gives_its_own_passages():
    pages = ["First page paragraph about workforce. " * 5, "Second page on information sharing. " * 5]
    passages = split_passages("sha", pages, paged=True)
    assert {p.page for p in passages} == {1, 2}
    assert all("Second" not in p.text for p in passages if p.page == 1)


def test_long_paragraphs_are_cut_at_sentences_within_the_word_limit():
    text = " ".join(f"Sentence number {i} says something about integration." for i in range(200))
    passages = split_passages("sha", [text], paged=False)
    assert len(passages) > 3
    assert all(len(p.text.split()) <= MAX_WORDS for p in passages)
    assert all(p.page is None for p in passages)
    assert passages[0].text.startswith("Sentence number 0")


def test_ids_are_stable_and_distinct():
    a = split_passages("sha", ["One. " * 50, "Two. " * 50], paged=True)
    b = split_passages("sha", ["One. " * 50, "Two. " * 50], paged=True)
    assert [p.id for p in a] == [p.id for p in b]
    assert len({p.id for p in a}) == len(a)


def test_short_headings_merge_with_their_paragraph():
    text = "Recommendations\n\nThe Department should publish a workforce strategy for health and social care " \
           "that covers recruitment, retention and training across both sectors by the end of 2018, " \
           "working with local government."
    passages = split_passages("sha", [text], paged=False)
    assert len(passages) == 1
    assert passages[0].text.startswith("Recommendations\nThe Department")
