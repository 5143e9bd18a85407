"""The import contract in .importlinter holds: webapp and the demo site above kb above nlp,
the crawler on its own, kb meeting it only through crawler.records and crawler.rawstore, no
cycles inside kb."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_imports_keep_the_layers_of_the_contract():
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")
    assert lint, "import-linter is not installed: pip install -e '.[test]'"
    proc = subprocess.run([lint, "--config", str(REPO / ".importlinter"), "--no-cache"], cwd=REPO, env=dict(os.environ, PYTHONPATH=str(REPO)),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
