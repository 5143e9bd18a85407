"""The ``kb`` command line: a click group (``kb.cli.app``) and its commands (``kb.cli.commands``).

``main`` is the console script's entry point; ``python -m kb.cli`` runs it too.
"""
from __future__ import annotations

from kb.cli import commands  # noqa: F401  (registers every command on the group)
from kb.cli.app import cli, main

__all__ = ["cli", "main"]
