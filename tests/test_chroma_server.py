"""A team runs Chroma as a server (`KB_CHROMA_URL`): ingest, search and `kb doctor` use it, and
nothing is written to the local `chroma/` folder.

Starts a real `chroma run` (the command from the chromadb package) on a free local port.
"""
from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import REPO, kb_env
from kb.config import Settings
from kb.index.ingest import ingest_paths
from kb.store.knowledge import KnowledgeBase
from kb.store.vectors import PASSAGES, RECOMMENDATIONS

pytestmark = pytest.mark.slow

STARTUP_TIMEOUT_S = 60

DOCS = {
    "hospital-discharge.md": """# Leaving hospital

Patients fit to leave hospital wait for home care because agencies cannot recruit enough care
workers. Each day of delayed discharge costs a bed and the patient's independence.

We recommend that NHS England should publish discharge delays every week, by reason for the delay.
""",
    "shared-records.txt": """Sharing care records

Information governance rules are read differently by each organisation, so staff are unsure
whether they may share a care record with the council's social workers, and often share nothing.
""",
}


def chroma_executable() -> str | None:
    beside = Path(sys.executable).parent / "chroma"
    return str(beside) if beside.is_file() else shutil.which("chroma")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_heartbeat(url: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"chroma run exited with {proc.returncode}:\n{log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(url + "/api/v2/heartbeat", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    pytest.fail(f"chroma server did not answer {url} within {STARTUP_TIMEOUT_S}s:\n{log.read_text()[-2000:]}")


@pytest.fixture
def chroma_server(tmp_path):
    exe = chroma_executable()
    if exe is None:
        pytest.skip("the `chroma` command (from the chromadb package) is not installed")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "chroma-server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([exe, "run", "--path", str(tmp_path / "server-data"), "--host", "127.0.0.1",
                                 "--port", str(port)], stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for_heartbeat(url, proc, log)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def run_kb_with_server(home: Path, url: str, *args: str) -> subprocess.CompletedProcess:
    env = dict(kb_env(home), KB_CHROMA_URL=url)
    return subprocess.run([sys.executable, "-m", "kb.cli", *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=300)


def http_client(url: str):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    port = int(url.rsplit(":", 1)[1])
    return chromadb.HttpClient(host="127.0.0.1", port=port, settings=ChromaSettings(anonymized_telemetry=False))


def test_ingest_search_and_doctor_use_the_chroma_server(chroma_server, tmp_path, monkeypatch):
    url = chroma_server
    home, inbox = tmp_path / "kb", tmp_path / "inbox"
    inbox.mkdir()
    for name, text in DOCS.items():
        (inbox / name).write_text(text, encoding="utf-8")
    monkeypatch.setenv("KB_CHROMA_URL", url)

    kbase = KnowledgeBase(Settings.from_env(home))
    assert kbase.settings.chroma_url == url
    results = ingest_paths(kbase, [inbox])
    assert [r.status for r in results] == ["new", "new"]
    n_passages = kbase.store.stats()["passages"]
    n_recs = kbase.store.stats()["recommendations"]
    kbase.close()

    server = http_client(url)
    assert server.get_collection(PASSAGES).count() == n_passages > 0
    assert server.get_collection(RECOMMENDATIONS).count() == n_recs >= 1

    # Dense mode: the hits can only come from the vectors on the server.
    proc = run_kb_with_server(home, url, "search", "people waiting to leave hospital", "--mode", "dense", "--json")
    assert proc.returncode == 0, proc.stderr
    hits = json.loads(proc.stdout)
    assert hits and hits[0]["url"].endswith("hospital-discharge.md")

    proc = run_kb_with_server(home, url, "doctor", "--check", "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["healthy"] is True
    assert report["collections"][PASSAGES]["chroma"] == n_passages

    # Drift on the server is found and repaired through it too.
    passages = server.get_collection(PASSAGES)
    lost = passages.get(limit=1, include=[])["ids"]
    passages.delete(ids=lost)
    proc = run_kb_with_server(home, url, "doctor", "--check", "--json")
    assert proc.returncode == 1 and json.loads(proc.stdout)["collections"][PASSAGES]["missing"] == 1
    proc = run_kb_with_server(home, url, "doctor", "--json")
    assert proc.returncode == 0 and json.loads(proc.stdout)["healthy"] is True
    assert passages.count() == n_passages and passages.get(ids=lost, include=[])["ids"] == lost

    assert not (home / "chroma").exists(), "with KB_CHROMA_URL set nothing is written to the local store"
