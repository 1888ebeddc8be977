"""TOML in (stdlib tomllib, or tomli before Python 3.11) and out (tomli-w)."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import tomli_w

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

TOMLDecodeError = tomllib.TOMLDecodeError


def load_toml(path: str | Path) -> dict[str, Any]:
    with open(path, "rb") as f:
        return tomllib.load(f)


def dumps_toml(doc: dict[str, Any]) -> str:
    return tomli_w.dumps(doc)
