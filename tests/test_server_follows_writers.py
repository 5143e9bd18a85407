"""An operator ingests new documents while ``kb serve`` answers researchers: within seconds the
running server finds them, by words and by meaning, through its in-memory snapshot too, with
no restart; /about says what the snapshot is doing.

The server is the real waitress server in this process; the ingest is the real ``kb ingest``
in another, as an operator runs it.
"""
from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from conftest import REPO, kb_env, run_kb
from webapp import EXTENSION, create_app
from webapp.serve import make_server, server_url, warm_up

pytestmark = pytest.mark.slow

SITE = REPO / "samples" / "site"
FIRST = ["pa/cm201617/cmselect/cmpubacc/959/95903.htm",
         "api/content/government/publications/treasury-minutes-july-2017.json"]
LATER = ["api/content/government/news/spending-review-2015-new-social-care-precept-and-better-care-fund-funding.json"]
QUERY = "social care precept council tax"


def folder(tmp_path: Path, name: str, files: list[str]) -> Path:
    target = tmp_path / name
    target.mkdir()
    for rel in files:
        shutil.copy(SITE / rel, target / Path(rel).name)
    return target


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())


def test_a_running_server_finds_documents_another_process_ingests(tmp_path):
    home = tmp_path / "kb"
    run_kb(home, "ingest", str(folder(tmp_path, "first", FIRST)))
    app = create_app({"KB_HOME": str(home)})
    kbase = app.extensions[EXTENSION]
    kbase.snapshots.min_passages = 0  # keep a snapshot even of this small knowledge base
    server = make_server(app, "127.0.0.1", 0)
    threading.Thread(target=server.run, daemon=True).start()
    url = server_url(server)
    try:
        warm_up(app)
        deadline = time.monotonic() + 120
        while kbase.snapshot() is None and time.monotonic() < deadline:
            time.sleep(0.5)
        assert kbase.snapshot() is not None
        search = f"{url}/api/search?" + urllib.parse.urlencode({"q": QUERY, "k": 10})
        assert not any("precept" in r["title"].lower() for r in get_json(search)["results"])

        run_kb(home, "ingest", str(folder(tmp_path, "later", LATER)))  # another process
        conn = sqlite3.connect(home / "kb.sqlite")
        new_doc, = conn.execute("SELECT id FROM documents WHERE title LIKE '%precept%'").fetchone()
        new_ids = {r[0] for r in conn.execute("SELECT id FROM passages WHERE doc_id = ?", (new_doc,))}
        conn.close()

        began, found = time.monotonic(), False
        while time.monotonic() - began < 30 and not found:
            found = new_doc in {r["doc_id"] for r in get_json(search)["results"]}
            if not found:
                time.sleep(0.5)
        assert found, "the server never found the document another process ingested"
        while kbase.snapshot() is None and time.monotonic() - began < 60:  # the rebuilt snapshot
            get_json(search)
            time.sleep(0.5)
        snap = kbase.snapshot()
        assert snap is not None and new_ids <= set(snap.ids)
        assert all(snap.has_vector[snap.pos_of[i]] for i in new_ids), "the snapshot holds the new vectors"
        nearest = {i for i, _ in kbase.vectors.query("passages", kbase.embed([QUERY])[0], 5)}
        assert nearest & new_ids, "dense search in the server sees the new vectors"
        with urllib.request.urlopen(f"{url}/about", timeout=30) as response:
            about = response.read().decode()
        assert 'id="search-index">ready' in about
        assert kbase.snapshots.status()["failures"] == 0
    finally:
        server.close()
