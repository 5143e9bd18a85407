"""The ``kb`` click group and the one decorator every command is declared with.

Adding a command is one function in ``kb/cli/commands.py``::

    @command("train-barriers", help="...")
    @click.option("--epochs", type=int, default=3)
    def train_barriers(run: Run, epochs: int) -> int:
        report = BarrierTrainer(run.settings).train(epochs=epochs)  # build one object, call it
        run.emit(report, lambda: print(...))                         # JSON or human text
        return 0

``command`` adds ``--json`` (declared here, once), hands the command a ``Run`` (settings and
output) and turns an unexpected error into one line on stderr and exit status 2: with ``--json``
only JSON goes to stdout; progress and logs always go to stderr; no traceback reaches the user.
"""
from __future__ import annotations

import json
import logging
import os
import sys
from dataclasses import dataclass
from datetime import date
from functools import wraps
from typing import Any, Callable

import click

from kb.config import Settings

log = logging.getLogger("kb")
NOISY_LOGGERS = ("httpx", "chromadb", "sentence_transformers", "urllib3", "scrapy", "filelock")


@dataclass
class Run:
    """What every command gets: the settings and where its output goes."""

    settings: Settings
    json: bool = False

    def emit(self, data: Any, human: Callable[[], None] | None = None) -> None:
        """``data`` as JSON on stdout with ``--json``; otherwise ``human()`` (when given)."""
        if self.json:
            emit_json(data)
        elif human is not None:
            human()


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def err(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Year(click.ParamType):
    name = "YEAR"

    def convert(self, value, param, ctx):
        text = str(value)
        if not text.isdigit() or not 1800 <= int(text) <= 2200:
            self.fail(f"not a year: {text!r}", param, ctx)
        return int(text)


class IsoDate(click.ParamType):
    name = "YYYY-MM-DD"

    def convert(self, value, param, ctx):
        try:
            return date.fromisoformat(str(value)).isoformat()
        except ValueError:
            self.fail(f"not a date (YYYY-MM-DD): {value!r}", param, ctx)


class Megabytes(click.ParamType):
    name = "MB"

    def convert(self, value, param, ctx):
        try:
            number = float(value)
        except ValueError:
            number = 0
        if not number > 0:
            self.fail(f"not a size in megabytes: {value!r}", param, ctx)
        return number


@click.group(name="kb", no_args_is_help=False, help="Refrain: evidence and policy-document knowledge base for UK health and social "
             "care integration.")
@click.option("--home", help="knowledge base folder (default $KB_HOME or ./kbdata)")
@click.option("-v", "--verbose", is_flag=True, help="debug logging on stderr")
@click.pass_context
def cli(ctx: click.Context, home: str | None, verbose: bool) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")
    for noisy in NOISY_LOGGERS:
        logging.getLogger(noisy).setLevel(logging.WARNING)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        settings = Settings.from_env(home)
    except ValueError as exc:  # a bad KB_* setting: one line, never a traceback
        err(f"kb {ctx.invoked_subcommand}: error: {exc}")
        raise click.exceptions.Exit(2) from None
    from nlp.embed import configure

    configure(settings.embed_backend, settings.embed_batch_size, settings.embed_threads)
    from nlp.barrier_tuned import configure_barriers

    configure_barriers(settings.barrier_model, settings.barrier_dir)
    ctx.obj = settings


def group(name: str, help: str) -> click.Group:
    """A ``kb`` command with subcommands (``kb watch add|list|remove``), declared with
    ``command(..., parent=the_group)``."""
    return cli.group(name, help=help, short_help=help)(lambda: None)


def command(name: str, help: str, json_output: bool = True, writes: bool = False,
            parent: click.Group | None = None) -> Callable:
    """Declare a ``kb`` command: ``--json`` (unless ``json_output=False``), a ``Run``, one-line errors.

    ``writes=True``: the command holds the knowledge base's write lock (``kb/store/lock.py``)
    for its whole run, so two writers on one knowledge base take turns instead of corrupting it.
    ``parent``: a command group (``kb watch``) instead of ``kb`` itself.
    """

    def decorate(fn: Callable[..., int | None]) -> click.Command:
        @wraps(fn)
        def invoke(**options: Any) -> int:
            settings = click.get_current_context().obj
            run = Run(settings, json=bool(options.pop("json", False)))
            try:
                if not writes:
                    return fn(run, **options) or 0
                from kb.store.lock import write_lock

                with write_lock(settings.home, f"kb {name}", say=lambda line: err(f"kb {name}: {line}")):
                    return fn(run, **options) or 0
            except (KeyboardInterrupt, click.exceptions.Exit, click.ClickException, click.Abort):
                raise
            except Exception as exc:  # the contract: one line, never a traceback
                log.debug("unexpected error", exc_info=True)
                err(f"kb {name}: error: {type(exc).__name__}: {exc}")
                return 2

        if json_output:
            invoke = click.option("--json", "json", is_flag=True, help="JSON on stdout")(invoke)
        return (parent or cli).command(name, help=help, short_help=help)(invoke)

    return decorate


def main(argv: list[str] | None = None) -> int:
    """Run ``kb`` with ``argv`` (default ``sys.argv[1:]``); the exit status, never a traceback."""
    try:
        result = cli.main(args=argv, prog_name="kb", standalone_mode=False)
    except click.UsageError as exc:  # as argparse wrote them: the usage, then one line
        if exc.ctx is not None:
            err(exc.ctx.get_usage())
        err(f"{exc.ctx.command_path if exc.ctx else 'kb'}: error: {exc.format_message()}")
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except (click.Abort, KeyboardInterrupt):
        err("interrupted")
        return 130
    return result if isinstance(result, int) else 0
