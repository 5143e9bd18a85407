"""A researcher points `kb ingest` at a folder full of nasty files — truncated, encrypted, empty
and image-only PDFs, junk named `.pdf`, HTML in mixed encodings or nested 200,000 deep, a 50 MB
single-line text file, GOV.UK JSON with missing fields, entries that cannot be read — together
with good ones. Each bad file gets one line saying which file and why, in the output and in
`kb failures`; the good files are stored; what was already stored is untouched; no traceback.

Every nasty file is made here, in a temporary folder. "Not readable" cannot be made with
``chmod 000`` alone: CI runs as root, who reads any file regardless of mode. So the folder also
holds a FIFO (opening it for reading would block for ever) and a symbolic link to a file that
does not exist; ``chmod 000`` is added only when the tests do not run as root.
"""
from __future__ import annotations

import io
import json
import os
import sqlite3
from pathlib import Path

import pytest

from conftest import kb_json, run_kb
from kb.config import Settings
from kb.index.ingest import check_file
from nlp.text import DocumentError

pytestmark = pytest.mark.slow

GOOD_FIRST = {
    "records.md": "# Sharing records\n\nInformation governance rules differ between the NHS and councils, so "
                  "front-line staff are unsure whether they may share a care record.\n",
    "pooled.txt": "Pooled budgets\n\nThe Better Care Fund pools £5.3 billion from the NHS and local government "
                  "so that the two can plan community services together.\n",
}
GOOD_LATER = {
    "workforce.md": "# Home care workforce\n\nAgencies cannot recruit or retain home care workers on current pay, "
                    "so care packages cannot start when the hospital ward is ready.\n",
}

# file name -> what its one-line reason must say
EXPECTED = {
    "truncated.pdf": "broken PDF",
    "encrypted.pdf": "encrypted PDF",
    "empty.pdf": "empty file (0 bytes)",
    "scanned.pdf": "no text layer",
    "junk.pdf": "broken PDF",
    "deep.html": "nested too deeply",
    "huge.txt": "text file too large (50.0 MB > 20.0 MB, the KB_MAX_TEXT_MB limit)",
    "missing-fields.json": "no text found",
    "not-an-item.json": "not a GOV.UK content item",
    "broken.json": "invalid JSON",
    "fifo.txt": "not a regular file (a FIFO)",
    "dangling.md": "broken symbolic link",
}


def text_pdf(text: str):
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.multi_cell(0, 8, text)
    return pdf


def make_nasty_files(folder: Path) -> None:
    from fpdf import FPDF
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    good = bytes(text_pdf("Delayed discharge is driven by the shortage of home care workers.").output())
    (folder / "truncated.pdf").write_bytes(good[: len(good) // 2])
    encrypted = text_pdf("Confidential: the board's deficit plan.")
    encrypted.set_encryption(owner_password="owner", user_password="secret")
    (folder / "encrypted.pdf").write_bytes(bytes(encrypted.output()))
    (folder / "empty.pdf").write_bytes(b"")
    image = io.BytesIO()
    Image.new("RGB", (200, 100), "white").save(image, "PNG")
    image.seek(0)
    scanned = FPDF()
    scanned.add_page()
    scanned.image(image, x=10, y=10, w=100)  # a page that is only a picture: no text layer
    (folder / "scanned.pdf").write_bytes(bytes(scanned.output()))
    (folder / "junk.pdf").write_bytes(bytes(range(256)) * 16)
    # UTF-8 heading, then a paragraph pasted from a Windows-1252 source (£ is 0xA3, – is 0x96).
    (folder / "mixed.html").write_bytes(
        "<html><body><main><h1>Café culture in integrated care</h1><p>Naïve plans: ".encode()
        + b"\xa3500 million for the Better Care Fund \x96 in 2016\x9617 \x96 was spent on discharge.</p>"
          b"</main></body></html>")
    (folder / "deep.html").write_bytes(b"<html><body>" + b"<div>" * 200_000 + b"lost text"
                                       + b"</div>" * 200_000 + b"</body></html>")
    with open(folder / "huge.txt", "wb") as fh:  # 50 MB on one line
        chunk = b"care " * 200_000
        for _ in range(50):
            fh.write(chunk)
    (folder / "missing-fields.json").write_text(json.dumps({"base_path": "/x", "details": {"body": None},
                                                            "links": [], "title": 7}))
    (folder / "not-an-item.json").write_text(json.dumps(["a", "list"]))
    (folder / "broken.json").write_text('{"base_path": "/x", "details": {')
    os.mkfifo(folder / "fifo.txt")
    (folder / "dangling.md").symlink_to(folder / "deleted-before-ingest.md")
    if os.geteuid() != 0:
        locked = folder / "locked.md"
        locked.write_text("# Locked\n\nNobody may read this.\n")
        locked.chmod(0)


def snapshot(home: Path) -> dict:
    conn = sqlite3.connect(home / "kb.sqlite")
    try:
        return {table: sorted(map(tuple, conn.execute(f"SELECT * FROM {table}")))
                for table in ("documents", "passages", "pages", "barriers", "funding", "recommendations")}
    finally:
        conn.close()


@pytest.fixture(scope="module")
def ingested(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("bad-files")
    home, first, inbox = root / "kb", root / "first", root / "inbox"
    first.mkdir()
    for name, text in GOOD_FIRST.items():
        (first / name).write_text(text, encoding="utf-8")
    run_kb(home, "ingest", str(first))
    before = snapshot(home)
    make_nasty_files(inbox)
    for name, text in GOOD_LATER.items():
        (inbox / name).write_text(text, encoding="utf-8")
    proc = run_kb(home, "ingest", str(inbox), str(first), "--json", check=False)
    return {"home": home, "inbox": inbox, "before": before, "proc": proc, "report": json.loads(proc.stdout)}


def test_the_run_goes_on_and_exits_1_without_a_traceback(ingested):
    proc = ingested["proc"]
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    summary = ingested["report"]["summary"]
    expected_failures = len(EXPECTED) + (os.geteuid() != 0)
    assert summary == {"new": 2, "updated": 0, "unchanged": len(GOOD_FIRST), "failed": expected_failures}


def test_each_bad_file_has_a_one_line_reason_naming_the_cause(ingested):
    failed = {Path(r["path"]).name: r["reason"] for r in ingested["report"]["results"] if r["status"] == "failed"}
    for name, cause in EXPECTED.items():
        assert name in failed, f"{name} was not reported"
        assert cause in failed[name], (name, failed[name])
        assert "\n" not in failed[name] and len(failed[name]) < 300
    if os.geteuid() != 0:
        assert "permission denied" in failed["locked.md"]
    progress = [line for line in ingested["proc"].stderr.splitlines() if " failed " in f" {line} "]
    for name, cause in EXPECTED.items():
        assert any(name in line and cause in line for line in progress), f"no progress line for {name}"


def test_the_failure_log_lists_every_bad_file(ingested):
    logged = {Path(f["path"]).name: f["reason"] for f in kb_json(ingested["home"], "failures")}
    for name, cause in EXPECTED.items():
        assert cause in logged[name]


def test_good_files_are_stored_and_mixed_encodings_read_cleanly(ingested):
    ok = {Path(r["path"]).name for r in ingested["report"]["results"] if r["status"] == "new"}
    assert ok == {"workforce.md", "mixed.html"}
    conn = sqlite3.connect(ingested["home"] / "kb.sqlite")
    title, text = conn.execute("SELECT d.title, p.text FROM documents d JOIN pages p ON p.doc_id = d.id "
                               "WHERE d.url LIKE '%mixed.html'").fetchone()
    conn.close()
    assert title == "Café culture in integrated care"
    assert "Naïve plans: £500 million for the Better Care Fund – in 2016–17" in text
    assert "Ã" not in text and "\ufffd" not in text


def test_what_was_stored_before_is_unchanged(ingested):
    after = snapshot(ingested["home"])
    for table, rows in ingested["before"].items():
        assert set(rows) <= set(after[table]), f"rows of {table} changed or vanished"
    before_ids = {d[0] for d in ingested["before"]["documents"]}
    assert [d for d in after["documents"] if d[0] in before_ids] == ingested["before"]["documents"]


def test_the_size_caps_are_settings(tmp_path, monkeypatch):
    monkeypatch.delenv("KB_MAX_TEXT_MB", raising=False)
    monkeypatch.delenv("KB_MAX_FILE_MB", raising=False)
    small = tmp_path / "note.txt"
    small.write_text("x" * 2_000)
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(b"%PDF" + b"x" * 2_000)
    tight = Settings(home=tmp_path, max_file_bytes=10_000, max_text_bytes=1_000)
    with pytest.raises(DocumentError, match="KB_MAX_TEXT_MB"):
        check_file(small, tight)
    assert check_file(pdf, tight) == 2_004, "PDFs are read page by page: only the file cap applies"
    with pytest.raises(DocumentError, match="KB_MAX_FILE_MB"):
        check_file(pdf, Settings(home=tmp_path, max_file_bytes=1_000))
    env = Settings.from_env(tmp_path)
    assert env.max_text_bytes == 20_000_000 and env.max_file_bytes == 500_000_000
