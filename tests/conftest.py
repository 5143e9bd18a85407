"""Shared fixtures: the demo knowledge base, built once per session by the real pipeline.

``kb demo --no-serve`` runs in a subprocess (Scrapy's Twisted reactor cannot be restarted in
one process), in a temporary ``$KB_HOME``, exactly as a user would run it.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
CORPUS = SHARED / "corpus"
GOLD = SHARED / "gold"


def kb_env(home: Path) -> dict:
    env = dict(os.environ, KB_HOME=str(home), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
               TOKENIZERS_PARALLELISM="false", PYTHONUNBUFFERED="1")
    env.pop("KB_CHROMA_URL", None)
    return env


def run_kb(home: Path, *args: str, check: bool = True, timeout: int = 900,
           env: dict | None = None) -> subprocess.CompletedProcess:
    """Run the real ``kb`` command line (``env``: settings on top of the test's); stdout is
    returned for the caller to parse."""
    proc = subprocess.run([sys.executable, "-m", "kb.cli", *args], cwd=REPO, env={**kb_env(home), **(env or {})},
                          capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"kb {' '.join(args)} exited {proc.returncode}\nstderr:\n{proc.stderr[-4000:]}")
    return proc


def kb_json(home: Path, *args: str):
    return json.loads(run_kb(home, *args, "--json").stdout)


@pytest.fixture(scope="session")
def demo_home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("demo-kb")
    proc = run_kb(home, "demo", "--no-serve", "--json")
    (home / "first-demo-report.json").write_text(proc.stdout)
    return home


@pytest.fixture(scope="session")
def demo_report(demo_home) -> dict:
    return json.loads((demo_home / "first-demo-report.json").read_text())


@pytest.fixture
def shared_corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"shared corpus not found at {CORPUS} (it lives beside the project checkout)")
    return CORPUS
