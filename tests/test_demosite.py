"""The demo site: built from samples/ with deterministic PDFs, served by the README's rules."""
from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

import pypdfium2 as pdfium
import pytest

from kb.config import SAMPLES_DIR
from demosite.site import build_site, parse_pdf_source, render_pdf, resolve_path, serve_site

NAO_PDF = "wp-content/uploads/2017/02/Health-and-social-care-integration.pdf"


def pdf_text(data: bytes) -> list[str]:
    document = pdfium.PdfDocument(data)
    try:
        return [page.get_textpage().get_text_range() for page in document]
    finally:
        document.close()


def get(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type", ""), b""


# -- building ---------------------------------------------------------------------------------


def test_two_builds_of_the_samples_give_identical_bytes(tmp_path):
    first = build_site(tmp_path / "one")
    second = build_site(tmp_path / "two")
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    pdfs = [f for f in files if f.suffix == ".pdf"]
    assert pdfs, "the samples render at least one PDF"
    for relative in files:
        assert (first / relative).read_bytes() == (second / relative).read_bytes(), relative


def test_every_pdf_source_becomes_a_pdf_at_its_site_path(tmp_path):
    site = build_site(tmp_path / "site")
    sources = sorted((SAMPLES_DIR / "pdf-src").rglob("*.pdf.txt"))
    assert sources
    for source in sources:
        target = site / str(source.relative_to(SAMPLES_DIR / "pdf-src"))[: -len(".txt")]
        assert target.read_bytes().startswith(b"%PDF"), target


def test_the_nao_report_cover_carries_its_hc_number_and_date(tmp_path):
    site = build_site(tmp_path / "site")
    data = (site / NAO_PDF).read_bytes()
    document = pdfium.PdfDocument(data)
    assert document.get_metadata_dict()["Title"] == "Health and social care integration"
    assert document.get_metadata_dict()["Author"] == "National Audit Office"
    cover = pdf_text(data)[0]
    assert "Comptroller and Auditor General" in cover
    assert "HC 1011" in cover and "2017" in cover


def test_a_rebuild_into_the_same_folder_only_rewrites_changed_sources(tmp_path):
    samples = tmp_path / "samples"
    (samples / "pdf-src" / "docs").mkdir(parents=True)
    (samples / "site").mkdir()
    (samples / "site" / "index.html").write_text("<h1>Home</h1>")
    source = samples / "pdf-src" / "docs" / "a.pdf.txt"
    source.write_text("title: A\n---\nFirst version.\n")
    site = build_site(tmp_path / "site", samples)
    built = site / "docs" / "a.pdf"
    first = built.read_bytes()
    assert build_site(site, samples) == site and built.read_bytes() == first
    source.write_text("title: A\n---\nSecond version.\n")
    import os

    os.utime(source, (built.stat().st_mtime + 10, built.stat().st_mtime + 10))
    build_site(site, samples)
    assert "Second version." in pdf_text(built.read_bytes())[0]


def test_pdf_source_format_header_pages_headings_and_paragraphs():
    text = (
        "title: Health and social care integration\n"
        "author: National Audit Office\n"
        "---\n"
        "Report by the Comptroller and Auditor General\n"
        "\n"
        "# Health and social care integration\n"
        "\n"
        "HC 1011 SESSION 2016–17 8 FEBRUARY 2017\n"
        "\f\n"
        "# Summary\n"
        "\n"
        "1 The Better Care Fund pooled £5.3 billion ≥ planned.\n"
        "\f\n"
        "Last page.\n"
    )
    source = parse_pdf_source(text)
    assert source.title == "Health and social care integration"
    assert source.author == "National Audit Office"
    assert source.pages[0] == [
        "Report by the Comptroller and Auditor General",
        "# Health and social care integration",
        "HC 1011 SESSION 2016–17 8 FEBRUARY 2017",
    ]
    assert len(source.pages) == 3
    pages = pdf_text(render_pdf(text))
    assert len(pages) == 3
    assert "HC 1011 SESSION 2016–17" in pages[0]
    assert "£5.3 billion >= planned" in pages[1]
    assert render_pdf(text) == render_pdf(text)


def test_hard_wrapped_prose_is_rewrapped_but_short_lines_keep_their_breaks():
    prose = ("Local bodies found the regulatory framework for sharing information confusing, and\n"
             "there was insufficient support from the centre to resolve information governance.")
    cover = "Department of Health\nNHS England"
    text = pdf_text(render_pdf(prose + "\n\n" + cover))[0]
    assert "confusing, and there was" in " ".join(text.split())
    assert "Department of Health\r\nNHS England" in text


# -- serving ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_site(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("tiny-site")
    files = {
        "robots.txt": "User-agent: *\nAllow: /\n",
        "reports/index.html": "<h1>Reports</h1>",
        "reports/page/2/index.html": "<h1>Reports, page 2</h1>",
        "api/search.json": '{"results": [], "total": 0}',
        "api/Publications/20745.json": '{"id": 20745}',
        "pa/cm201617/cmselect/cmpubacc/959/95905.htm": "<h2>Conclusions and recommendations</h2>",
        "government/publications/slug/index.html": "<h1>Publication</h1>",
        "government/news/story.html": "<h1>News</h1>",
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    pdf = root / "api/Publications/22871/Document/87312/OriginalFormat.pdf"
    pdf.parent.mkdir(parents=True)
    pdf.write_bytes(render_pdf("title: PAC report\n---\nHC 1376\n"))
    return root


@pytest.fixture(scope="module")
def tiny_url(tiny_site):
    with serve_site(tiny_site) as base_url:
        yield base_url


@pytest.mark.parametrize(
    ("path", "served", "content_type"),
    [
        ("/robots.txt", "robots.txt", "text/plain"),
        ("/api/Publications/20745", "api/Publications/20745.json", "application/json"),
        ("/api/Publications/22871/Document/87312/OriginalFormat", "api/Publications/22871/Document/87312/OriginalFormat.pdf", "application/pdf"),
        ("/government/news/story", "government/news/story.html", "text/html"),
        ("/reports/", "reports/index.html", "text/html"),
        ("/reports", "reports/index.html", "text/html"),
        ("/reports/page/2/", "reports/page/2/index.html", "text/html"),
        ("/government/publications/slug", "government/publications/slug/index.html", "text/html"),
        ("/pa/cm201617/cmselect/cmpubacc/959/95905.htm", "pa/cm201617/cmselect/cmpubacc/959/95905.htm", "text/html"),
    ],
)
def test_the_server_maps_paths_to_files_by_the_readme_rules(tiny_site, tiny_url, path, served, content_type):
    assert resolve_path(tiny_site, path) == (tiny_site / served).resolve()
    status, got_type, body = get(tiny_url + path)
    assert status == 200
    assert got_type.split(";")[0] == content_type
    assert body == (tiny_site / served).read_bytes()


@pytest.mark.parametrize("path", ["/nothing-here", "/reports/missing/", "/api/Publications/1", "/../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd"])
def test_anything_else_is_404(tiny_site, tiny_url, path):
    assert resolve_path(tiny_site, path) is None
    status, _, _ = get(tiny_url + path)
    assert status == 404


def test_the_server_picks_a_free_port_and_stops_on_exit(tiny_site):
    with serve_site(tiny_site) as first, serve_site(tiny_site) as second:
        assert first.startswith("http://127.0.0.1:") and first != second
        assert get(first + "/reports/")[0] == 200
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(first + "/reports/", timeout=2)


def test_the_built_samples_are_served_like_the_publishers(tmp_path):
    site = build_site(tmp_path / "site")
    with serve_site(site) as base_url:
        status, content_type, body = get(f"{base_url}/{NAO_PDF}")
        assert (status, content_type) == (200, "application/pdf") and body.startswith(b"%PDF")
        assert get(base_url + "/reports/")[0] == 200
        assert get(base_url + "/api/search.json?q=health")[1] == "application/json"
