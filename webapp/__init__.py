"""The Refrain web app: server-rendered pages and a JSON API over one read-only knowledge base.

``create_app(config)`` builds a fresh app (tests build their own); nothing heavy happens at
import or in the factory: the knowledge base's SQLite, Chroma and the embedding model open on
first use and are then shared by every request of the process.
"""
from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask, current_app, jsonify, render_template, request
from flask.globals import request_ctx
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import HTTPException, InternalServerError, ServiceUnavailable

from kb.config import Settings
from kb.store.knowledge import KnowledgeBase

log = logging.getLogger(__name__)

EXTENSION = "refrain"

# "default-src 'self'" is the policy; the rest closes what default-src does not cover.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()",
}


class SafeJSONProvider(DefaultJSONProvider):
    """JSON with ``< > &`` written as ``\\u003c \\u003e \\u0026``: the same data to any parser, but
    document text can never form markup, even if a client sniffs or embeds the response."""

    sort_keys = False
    ensure_ascii = False

    def dumps(self, obj, **kwargs) -> str:
        text = super().dumps(obj, **kwargs)
        return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


class _Refrain(Flask):
    json_provider_class = SafeJSONProvider


class NoKnowledgeBase(ServiceUnavailable):
    """The configured ``KB_HOME`` has no database yet: say how to make one, not a traceback."""


def create_app(config: dict | None = None) -> Flask:
    """Build the app. ``config`` may hold ``SETTINGS`` (a kb ``Settings``) or ``KB_HOME``;
    without either, settings come from the ``KB_*`` environment variables."""
    app = _Refrain(__name__)
    app.config.from_mapping(JSON_SORT_KEYS=False)
    if config:
        app.config.update(config)
    settings = app.config.get("SETTINGS")
    if settings is None:
        settings = Settings.from_env(app.config.get("KB_HOME"))
    elif not isinstance(settings, Settings):
        raise TypeError(f"SETTINGS must be a kb.config.Settings, not {type(settings).__name__}")
    app.config["SETTINGS"] = settings
    app.json.sort_keys = False
    app.json.ensure_ascii = False
    app.extensions[EXTENSION] = KnowledgeBase(settings, readonly=True)

    from webapp import api, feeds, ledger, present, views

    app.register_blueprint(views.bp)
    app.register_blueprint(ledger.pages)
    app.register_blueprint(ledger.api, url_prefix="/api")
    app.register_blueprint(feeds.bp, url_prefix="/feeds")
    app.register_blueprint(api.bp, url_prefix="/api")
    present.register(app)
    app.after_request(_security_headers)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(InternalServerError, _server_error)
    return app


def get_kb() -> KnowledgeBase:
    """The app's one knowledge base; 503 with instructions while it has no database."""
    kbase: KnowledgeBase = current_app.extensions[EXTENSION]
    path: Path = kbase.settings.sqlite_path
    if not path.is_file():
        raise NoKnowledgeBase(
            f"There is no knowledge base in {kbase.settings.home.name!r} yet. "
            "Build one with `kb demo --no-serve` or `kb ingest PATH`, then reload this page.")
    try:  # another process (kb ingest, kb crawl) may have finished writing: see its vectors
        kbase.follow_writers()
    except Exception:  # never a 500 for this: the previous view keeps answering; logged, retried next request
        log.warning("could not reopen the vector store after another process wrote", exc_info=True)
    return kbase


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/api"


def _security_headers(response):
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def _http_error(exc: HTTPException):
    if request_ctx.url_adapter is None:  # a Host no URL can be built for (e.g. a 64-character label)
        response = current_app.response_class(f"{exc.code} {exc.name}: {exc.description}\n", status=exc.code or 500,
                                              mimetype="text/plain")
    elif wants_json():
        body = {"error": exc.description or exc.name}
        errors = getattr(exc, "errors", None)
        if errors:
            body["errors"] = [{"param": p, "message": m} for p, m in errors]
        response = jsonify(body)
        response.status_code = exc.code or 500
    else:
        response = current_app.response_class(
            render_template("error.html", error=exc, errors=getattr(exc, "errors", None)), status=exc.code or 500)
    if exc.code == 405 and getattr(exc, "valid_methods", None):
        response.headers["Allow"] = ", ".join(exc.valid_methods)
    return response


def _server_error(exc: InternalServerError):
    original = getattr(exc, "original_exception", None)
    if original is not None:
        log.error("unhandled error on %s", request.path, exc_info=original)
    exc.description = "Something went wrong on our side. The error has been logged; please try again."
    return _http_error(exc)
