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
# Held-open sockets must not lock everyone out (110 idle sockets once answered 0 of 4 probes in
# 60 s under waitress's defaults: 100 connections, 120 s idle timeout, checked every 30 s).
# An idle connection costs waitress one socket and a few KB, no thread, so the limit is set far
# above any real audience and the idle timeout short: 200 idle sockets at once leave every probe
# answered (tests/test_server_available.py) and are closed within CHANNEL_TIMEOUT + CLEANUP s.
# A public deployment still belongs behind a reverse proxy (README, "Reliability").
LIMITS = {
    "connection_limit": 2000,   # sockets open at once; each is one fd (poll, not select: no 1024 cap)
    "channel_timeout": 15,      # seconds a connection may sit without sending or reading a byte
    "cleanup_interval": 5,      # how often idle connections are looked for
    "asyncore_use_poll": True,
    "backlog": 1024,
    "max_request_header_size": 64 * 1024,
    "max_request_body_size": 64 * 1024,  # the app only reads: no route takes a body
}


def make_server(app: Flask, host: str = "127.0.0.1", port: int = 5000, threads: int = THREADS, **limits):
    """A bound, not yet running waitress server (``.run()`` serves, ``.close()`` stops)."""
    from waitress import create_server

    _raise_open_files(LIMITS["connection_limit"] + 100)
    return create_server(app, host=host, port=port, threads=threads, ident="Refrain", **{**LIMITS, **limits})


def _raise_open_files(wanted: int) -> None:
    """Room for ``connection_limit`` sockets: raise the soft fd limit towards the hard one."""
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft != resource.RLIM_INFINITY and soft < wanted:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard) if hard != resource.RLIM_INFINITY
                                                        else wanted, hard))
    except (ImportError, ValueError, OSError):  # not fatal: fewer sockets, same behaviour
        log.warning("could not raise the open-file limit", exc_info=True)


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
