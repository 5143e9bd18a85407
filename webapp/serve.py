"""Serve the web app with waitress, a production WSGI server (``kb serve``).

Never Flask's development server: waitress is multi-threaded, bounded and safe to expose on
a network. The socket is bound before the address is printed, so the printed URL works (and
port 0 prints the port actually chosen).
"""
from __future__ import annotations

import logging
import sys
import threading

from flask import Flask

from kb.config import Settings

log = logging.getLogger(__name__)

THREADS = 8


def make_server(app: Flask, host: str = "127.0.0.1", port: int = 5000, threads: int = THREADS):
    """A bound, not yet running waitress server (``.run()`` serves, ``.close()`` stops)."""
    from waitress import create_server

    return create_server(app, host=host, port=port, threads=threads, ident="Refrain")


def server_url(server) -> str:
    # A name like "localhost" can bind several sockets (IPv4 and IPv6); report the first.
    listen = getattr(server, "effective_listen", None)
    host, port = listen[0] if listen else (server.effective_host, server.effective_port)
    if ":" in str(host):  # IPv6 literal
        host = f"[{host}]"
    return f"http://{host}:{port}"


def warm_up(app: Flask) -> None:
    """Load the embedding model, open Chroma and build the search snapshot in the background,
    so the first search a visitor makes is not the one that waits for them."""
    def run() -> None:
        from webapp import EXTENSION

        kbase = app.extensions[EXTENSION]
        if not kbase.settings.sqlite_path.is_file():
            return
        try:
            kbase.embed(["warm up"])
            kbase.vectors.collection("passages")
            # At archive size, BM25 and filters run on an in-memory snapshot (kb/store/snapshot.py):
            # built here, in the background; searches use SQLite until it is ready.
            kbase.snapshots.start()
        except Exception:  # a failed warm-up only costs the first visitor a wait
            log.warning("warm-up failed; the first search will load the model", exc_info=True)

    threading.Thread(target=run, name="refrain-warm-up", daemon=True).start()


def serve(settings: Settings, host: str | None = None, port: int | None = None) -> None:
    """Serve until interrupted, printing ``Refrain is serving at http://HOST:PORT`` to stderr."""
    from webapp import create_app

    app = create_app({"SETTINGS": settings})
    server = make_server(app, host if host is not None else settings.host,
                         port if port is not None else settings.port)
    print(f"Refrain is serving at {server_url(server)}", file=sys.stderr, flush=True)
    if not settings.sqlite_path.is_file():
        print(f"(no knowledge base in {settings.home} yet: run `kb demo --no-serve` or `kb ingest PATH`)",
              file=sys.stderr, flush=True)
    warm_up(app)
    try:
        server.run()
    finally:
        server.close()
