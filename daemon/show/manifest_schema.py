"""Every `show.toml` key's type and range, in one table, checked before anything reads them.

A bundle comes from anywhere (a download, a USB stick, a half-finished training run); a string
where a number belongs must give one line naming the file, the key and what was expected, never
a traceback from deep inside the loader. `bundle.load_manifest` runs `check` first and then reads
values it can trust; the cross-field rules (sizes that must agree) stay there, and the
`[[conditioning]]` tables are checked by conditioning.py, which owns them.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

MAX_NAME = 200  # characters of a show's name (it goes in log lines, OSC replies and file names)
MAX_FILE = 255  # characters of a model file's name inside the bundle
HEX64 = re.compile(r"^[0-9a-f]{64}$")


class SchemaError(ValueError):
    """`[table] key: expected ..., got ...` (the caller adds the file)."""


@dataclass(frozen=True)
class Field:
    kind: str  # int | number | bool | str | name | file | numbers | strings | runs | table | any
    required: bool = True
    lo: float | None = None
    hi: float | None = None

    def describe(self) -> str:
        what = {"int": "a whole number", "number": "a number", "bool": "true or false", "str": "a string",
                "name": f"a name of 1-{MAX_NAME} printable characters",
                "file": f"a file name inside the bundle (relative, no '..', at most {MAX_FILE} characters)",
                "numbers": "a list of finite numbers", "strings": "a list of strings",
                "runs": "a list of [start, end] pairs of whole numbers", "table": "a table",
                "any": "anything"}[self.kind]
        if self.lo is not None and self.hi is not None:
            what += f" from {_num(self.lo)} to {_num(self.hi)}"
        return what


TOP = {
    "format": Field("int", lo=1, hi=1000),
    "name": Field("name"),
    "encoder": Field("table"),
    "decoder": Field("table"),
    "conditioning": Field("any", required=False),  # conditioning.py checks it
    "latent": Field("table", required=False),
    "mapping": Field("table", required=False),
    "checksums": Field("table", required=False),
    "provenance": Field("table", required=False),
}
ENCODER = {
    "kind": Field("str"),
    "file": Field("file", required=False),
    "sample_rate": Field("int", lo=1000, hi=768000),
    "hop": Field("int", lo=1, hi=1 << 20),
    "latent_dim": Field("int", lo=1, hi=4096),
    "deterministic_mean": Field("bool", required=False),
}
DECODER = {
    "kind": Field("str"),
    "file": Field("file"),
    "latent_dim": Field("int", lo=1, hi=65536),
    "context": Field("int", required=False, lo=1, hi=4096),
    "width": Field("int", lo=1, hi=16384),
    "height": Field("int", lo=1, hi=16384),
    "fps": Field("number", required=False, lo=1, hi=1000),
}
LATENT = {"mean": Field("numbers"), "std": Field("numbers")}  # format 1
AFFINE_MAPPING = {"weight": Field("any"), "bias": Field("numbers")}  # shapes are checked in bundle.py
NETWORK_MAPPING = {
    "file": Field("file"),
    "residuals": Field("file"),
    "runs": Field("runs"),
    "fps": Field("number", lo=0.1, hi=1000),
    "redraw_on": Field("strings"),
    "redraw_probability": Field("number", lo=0, hi=1),
    "redraw_min_s": Field("number", lo=0, hi=3600),
    "redraw_max_s": Field("number", lo=0, hi=3600),
    "explained": Field("numbers", required=False),
}


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _ok(f: Field, v: Any) -> bool:
    if f.kind == "int":
        ok = isinstance(v, int) and not isinstance(v, bool)
    elif f.kind == "number":
        ok = _is_number(v)
    elif f.kind == "bool":
        return isinstance(v, bool)
    elif f.kind == "str":
        return isinstance(v, str) and len(v) <= MAX_NAME
    elif f.kind == "name":
        return isinstance(v, str) and 0 < len(v) <= MAX_NAME and v.isprintable()
    elif f.kind == "file":
        if not isinstance(v, str) or not 0 < len(v) <= MAX_FILE or not v.isprintable() or "\\" in v:
            return False
        p = PurePosixPath(v)
        return not p.is_absolute() and ".." not in p.parts
    elif f.kind == "numbers":
        return isinstance(v, list) and all(_is_number(x) for x in v)
    elif f.kind == "strings":
        return isinstance(v, list) and all(isinstance(x, str) for x in v)
    elif f.kind == "runs":
        return isinstance(v, list) and all(
            isinstance(r, list) and len(r) == 2 and all(isinstance(x, int) and not isinstance(x, bool) for x in r)
            for r in v)
    elif f.kind == "table":
        return isinstance(v, dict)
    else:
        return True
    return ok and (f.lo is None or v >= f.lo) and (f.hi is None or v <= f.hi)


def _short(v: Any) -> str:
    text = repr(v)
    return text if len(text) <= 60 else text[:57] + "..."


def check_table(table: dict, fields: dict[str, Field], where: str) -> None:
    """Raise SchemaError for the first key of `fields` that is missing or of the wrong type/range."""
    for key, f in fields.items():
        if key not in table:
            if f.required:
                raise SchemaError(f"{where}'{key}' is missing: expected {f.describe()}")
            continue
        if not _ok(f, table[key]):
            raise SchemaError(f"{where}'{key}': expected {f.describe()}, got {_short(table[key])}")


def check(doc: dict) -> None:
    """Types and ranges of every key the daemon reads from show.toml."""
    check_table(doc, TOP, "")
    check_table(doc["encoder"], ENCODER, "[encoder] ")
    check_table(doc["decoder"], DECODER, "[decoder] ")
    if "latent" in doc:
        check_table(doc["latent"], LATENT, "[latent] ")
    if "mapping" in doc:
        image = doc["decoder"].get("kind") == "image"
        check_table(doc["mapping"], NETWORK_MAPPING if image else AFFINE_MAPPING, "[mapping] ")
    for name, digest in doc.get("checksums", {}).items():
        if not isinstance(digest, str) or not HEX64.match(digest):
            raise SchemaError(f"[checksums] '{name}': expected a sha256 as 64 hex digits, got {_short(digest)}")
