"""Broken copies of a valid show bundle, one defect each: the bundles a new user's rig might
hold (a hand-edited show.toml, a half-copied folder, a file from another tool).

Model files are linked, not copied, unless the defect is in them, so 30 bundles cost little disk.
"""
from __future__ import annotations

import copy
import os
import shutil
from pathlib import Path
from typing import Any, Callable

from latentvj.daemon.show.bundle import MANIFEST
from latentvj.daemon.toml_io import dumps_toml, load_toml

Edit = Callable[[dict[str, Any]], None]


def _set(table: str | None, key: str, value: Any) -> Edit:
    def edit(doc: dict) -> None:
        (doc[table] if table else doc)[key] = value
    return edit


def _drop(table: str | None, key: str) -> Edit:
    def edit(doc: dict) -> None:
        (doc[table] if table else doc).pop(key, None)
    return edit


def _first_stream(key: str, value: Any) -> Edit:
    def edit(doc: dict) -> None:
        doc["conditioning"][0][key] = value
    return edit


def _format1_latent(doc: dict) -> None:
    doc["format"] = 1
    doc["latent"] = {"mean": ["zero"] * doc["encoder"]["latent_dim"], "std": [1.0] * doc["encoder"]["latent_dim"]}


# name -> an edit of the parsed show.toml
MANIFEST_EDITS: dict[str, Edit] = {
    "format is a string": _set(None, "format", "2"),
    "format from the future": _set(None, "format", 99),
    "name missing": _drop(None, "name"),
    "name of 5000 characters": _set(None, "name", "n" * 5000),
    "name is a number": _set(None, "name", 7),
    "encoder is a string": _set(None, "encoder", "rave"),
    "encoder sample_rate is a string": _set("encoder", "sample_rate", "44100"),
    "encoder hop is 0": _set("encoder", "hop", 0),
    "encoder kind unknown": _set("encoder", "kind", "wavenet"),
    "encoder file is a number": _set("encoder", "file", 7),
    "encoder file outside the bundle": _set("encoder", "file", "../../etc/passwd"),
    "decoder context is a string": _set("decoder", "context", "4"),
    "decoder fps is a string": _set("decoder", "fps", "thirty"),
    "decoder width negative": _set("decoder", "width", -5),
    "decoder file missing": _drop("decoder", "file"),
    "decoder latent_dim wrong": lambda doc: doc["decoder"].update(latent_dim=doc["decoder"]["latent_dim"] + 1),
    "conditioning missing": _drop(None, "conditioning"),
    "conditioning mean are strings": _first_stream("mean", ["x"] * 8),
    "conditioning window huge": _first_stream("window", 10 ** 9),
    "[latent] mean are strings (format 1)": _format1_latent,
    "checksums is a string": _set(None, "checksums", "abc"),
    "checksum not hex": lambda doc: doc["checksums"].update({next(iter(doc["checksums"])): "xyz"}),
    "provenance is a number": _set(None, "provenance", 5),
    "mapping fps is a string": lambda doc: doc["mapping"].update(fps="x") if "mapping" in doc else None,
    "mapping runs are strings": lambda doc: doc["mapping"].update(runs=[["a", "b"]]) if "mapping" in doc else None,
}


def _link_copy(src: Path, dst: Path) -> None:
    dst.mkdir(parents=True)
    for f in src.iterdir():
        if f.is_file() and f.name != MANIFEST:
            os.symlink(f.resolve(), dst / f.name)


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name)[:60]


def make_broken_bundles(valid: Path, out: Path) -> list[tuple[str, Path]]:
    """(defect, path) for each broken bundle written under `out` (which must not exist yet)."""
    out.mkdir(parents=True)
    doc = load_toml(valid / MANIFEST)
    made: list[tuple[str, Path]] = []
    for name, edit in MANIFEST_EDITS.items():
        d = out / _slug(name)
        _link_copy(valid, d)
        broken = copy.deepcopy(doc)
        edit(broken)
        (d / MANIFEST).write_text(dumps_toml(broken))
        made.append((name, d))

    def bundle(name: str) -> Path:
        d = out / _slug(name)
        _link_copy(valid, d)
        shutil.copy(valid / MANIFEST, d / MANIFEST)
        made.append((name, d))
        return d

    (bundle("show.toml is not TOML") / MANIFEST).write_text("format = = 2\n[encoder\n")
    (bundle("show.toml is binary") / MANIFEST).write_bytes(bytes(range(256)) * 4)
    (bundle("show.toml missing") / MANIFEST).unlink()
    d = bundle("decoder file missing from the folder")
    (d / doc["decoder"]["file"]).unlink()
    for name in ("decoder file corrupt", "decoder file corrupt, checksum updated"):
        dec = bundle(name) / doc["decoder"]["file"]
        dec.unlink()  # the link, not the valid model behind it
        dec.write_bytes(b"PK\x03\x04 not a TorchScript archive" * 10)
    d = out / _slug("decoder file corrupt, checksum updated")
    fixed = copy.deepcopy(doc)
    fixed.get("checksums", {}).pop(doc["decoder"]["file"], None)
    (d / MANIFEST).write_text(dumps_toml(fixed))
    zip_path = out / "not_a_zip.zip"
    zip_path.write_bytes(b"this is no zip")
    made.append(("a .zip that is not a zip", zip_path))
    made.append(("a folder that does not exist", out / "nowhere"))
    return made
