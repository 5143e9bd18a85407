"""The words extraction assigns — barrier themes, funding kinds, response stances — read from
the data files that define them (``nlp/data/*.json``), so a theme or kind added there is
accepted everywhere: CLI choices, web parameters, OpenAPI enums, charts (via ``kb.vocabulary``).
"""
from __future__ import annotations

import json
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"

# Display order of the terms known today; terms a data file adds come after, in file order.
_FUNDING_KIND_ORDER = ("allocation", "spend", "saving", "cost", "deficit", "other")
_STANCE_ORDER = ("accepted", "accepted_in_principle", "partially_accepted", "rejected", "noted", "other")


def _read(name: str) -> dict:
    return json.loads((DATA_DIR / name).read_text(encoding="utf-8"))


def _ordered(known: tuple[str, ...], present: list[str]) -> tuple[str, ...]:
    return tuple(t for t in known if t in present) + tuple(t for t in present if t not in known)


def theme_ids() -> tuple[str, ...]:
    """Barrier theme ids in ``themes.json`` order."""
    return tuple(t["id"] for t in _read("themes.json")["themes"])


def funding_kinds() -> tuple[str, ...]:
    """Funding kinds of ``funding_patterns.json`` (its cue kinds and its default)."""
    data = _read("funding_patterns.json")
    return _ordered(_FUNDING_KIND_ORDER, [*data["kinds"], data.get("default", "other")])


def stances() -> tuple[str, ...]:
    """Government-response stances of ``response_patterns.json``."""
    data = _read("response_patterns.json")
    return _ordered(_STANCE_ORDER, [*data["order"], *data.get("stances", {}), "other"])


THEMES = theme_ids()
FUNDING_KINDS = funding_kinds()
STANCES = stances()


def actors(extra: Path | None = None) -> list[dict]:
    """Actors of ``actors.json`` (id, name, names over the years, aliases), extended by ``extra``
    (a file of the same shape, e.g. ``$KB_HOME/actors.json``): its aliases join the actor of the
    same id, or it adds a new one. A missing ``extra`` is no error; a malformed one raises."""
    base = {a["id"]: dict(a, aliases=list(a.get("aliases", [])), names=list(a.get("names", [])))
            for a in _read("actors.json")["actors"]}
    if extra is not None and Path(extra).is_file():
        for a in json.loads(Path(extra).read_text(encoding="utf-8")).get("actors", []):
            known = base.setdefault(a["id"], {"id": a["id"], "name": a.get("name", a["id"]), "aliases": [],
                                              "names": []})
            known["aliases"] = [*a.get("aliases", []), *known["aliases"]]
            known["names"] = [*known["names"], *a.get("names", [])]
            known["name"] = a.get("name", known["name"])
    return list(base.values())
