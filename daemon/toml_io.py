"""TOML in (stdlib tomllib, or tomli before Python 3.11) and out (tomli-w), for every file the
daemon and training read or write: rig configs, show manifests, presets, maps, datasets.

`read_toml` is the one place where a missing, unreadable or malformed file becomes an error of
the caller's own class, naming the file and what it was meant to be.
"""
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


def read_toml(path: str | Path, error: type[Exception], what: str) -> dict[str, Any]:
    """load_toml, with every failure raised as `error("PATH: ...")`; `what` names the file's role
    ("config file", "OSC map") so the message says which file the user got wrong."""
    try:
        return load_toml(path)
    except TOMLDecodeError as exc:  # its message carries "(at line L, column C)"
        raise error(f"{path}: not valid TOML: {exc}") from exc
    except UnicodeDecodeError as exc:  # tomllib decodes the bytes itself: a binary file lands here
        raise error(f"{path}: not valid TOML: not UTF-8 text (byte {exc.start})") from exc
    except OSError as exc:
        raise error(f"{path}: cannot read the {what} ({exc.strerror or exc})") from exc


def dumps_toml(doc: dict[str, Any]) -> str:
    return tomli_w.dumps(doc)
