"""The show bundle: a folder (or a zip of one) with `show.toml`, the encoder and the decoder.

Training writes bundles with `write_manifest`; the daemon reads them with `load_manifest` and
`verify_checksums`, then `runtime.ShowRuntime.load` checks the models. A zip is unpacked by
`open_show` for as long as loading takes, then removed. Everything is validated on load and every
error names the file and what is wrong, so a bad bundle never replaces the one that is playing.
"""
from __future__ import annotations

import atexit
import datetime as _dt
import hashlib
import shutil
import tempfile
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, NamedTuple

import numpy as np

from ..audio.music_analysis import EVENTS
from ..toml_io import dumps_toml, read_toml
from . import manifest_schema
from .conditioning import (
    Conditioning,
    ConditioningError,
    default_names,
    parse_conditioning,
    single_stream,
)
from .shots import ShotRules

FORMAT_VERSION = 2  # 2: [[conditioning]] streams; 1: one stream, stats in [latent] (still read)
MANIFEST = "show.toml"
ENCODER_KINDS = ("rave", "features")
DECODER_KINDS = ("latent", "vae", "image")  # image: image decoder + audio mapping network + shots
BUILTIN_DIR = Path(__file__).parent / "builtin"  # the demo show and its audio loop
UNPACK_PREFIX = "latentvj-show-"  # temporary folders that zipped shows are unpacked into


class ShowError(Exception):
    """A show bundle that cannot be played; the message names the file and the problem."""


@dataclass
class NetworkMapping:
    """An image show's [mapping]: conditioning window -> image latent, plus the shots (shots.py)."""

    file: str  # TorchScript: forward(c (B, context, conditioning dims)) -> (B, latent_dim)
    residuals: str  # .npy (frames, latent_dim) float32: training codes minus the mapping's prediction
    runs: np.ndarray  # (R, 2) [start, end) of consecutive frames in `residuals`
    fps: float  # frames per second of the walk through the residuals (the dataset's)
    rules: ShotRules
    explained: np.ndarray | None = None  # (latent_dim,) held-out R^2 of each direction: information


@dataclass
class Manifest:
    """What `show.toml` says. Sizes here are checked against the models on load."""

    root: Path
    name: str
    encoder_kind: str
    encoder_file: str
    sample_rate: int
    hop: int
    encoder_dim: int
    conditioning: Conditioning  # what the decoder (or the VAE mapping) takes, with its stats
    decoder_kind: str
    decoder_file: str
    latent_dim: int
    context: int
    width: int
    height: int
    fps: float
    # conditioning -> decoder latent, only for VAE shows: z = weight @ c + bias
    mapping_weight: np.ndarray | None = None  # (latent_dim, conditioning.dim)
    mapping_bias: np.ndarray | None = None  # (latent_dim,)
    network: NetworkMapping | None = None  # image shows: the mapping network and the shots
    checksums: dict[str, str] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)
    source: Path | None = None  # what was loaded: the folder, or the zip `root` was unpacked from (gone since)

    @property
    def origin(self) -> Path:
        """Where the bundle came from, for messages: the zip, or the folder itself."""
        return self.source or self.root

    @property
    def encoder_path(self) -> Path:
        return self.root / self.encoder_file

    @property
    def decoder_path(self) -> Path:
        return self.root / self.decoder_file

    @property
    def manifest_path(self) -> Path:
        return self.root / MANIFEST

    @property
    def files(self) -> list[str]:
        """Every model file the bundle names (the checksummed ones)."""
        names = [self.encoder_file, self.decoder_file]
        if self.network is not None:
            names += [self.network.file, self.network.residuals]
        return [n for n in names if n]


def resolve_show_path(spec: str | Path) -> Path:
    """`demo` (or any name of a built-in show) or a path to a bundle folder or zip, as a folder.

    A zip is unpacked into a temporary folder that stays until the process exits: for one-shot
    tools. Anything that loads shows over and over (the daemon) goes through `open_show`."""
    path = locate_show(spec)
    if path.is_dir():
        return path
    out = Path(tempfile.mkdtemp(prefix=UNPACK_PREFIX))
    atexit.register(shutil.rmtree, out, ignore_errors=True)
    try:
        return _unpack_zip(path, out)
    except ShowError:
        shutil.rmtree(out, ignore_errors=True)
        raise


class ShowFolder(NamedTuple):
    root: Path  # the bundle folder to read
    source: Path  # what was asked for: `root` itself, or the zip `root` was unpacked from


@contextmanager
def open_show(spec: str | Path) -> Iterator[ShowFolder]:
    """The bundle as a folder for the length of the `with` block. A zip is unpacked into a
    temporary folder that is removed when the block ends, loaded or not: the loaders read every
    file into memory, and a daemon that switches zipped shows all night must not fill /tmp.
    Errors raised in the block name the zip rather than the folder that is about to vanish."""
    path = locate_show(spec)
    if path.is_dir():
        yield ShowFolder(path, path)
        return
    with tempfile.TemporaryDirectory(prefix=UNPACK_PREFIX, ignore_cleanup_errors=True) as tmp:
        try:
            yield ShowFolder(_unpack_zip(path, Path(tmp)), path)
        except ShowError as exc:
            raise ShowError(str(exc).replace(tmp, str(path))) from exc


def locate_show(spec: str | Path) -> Path:
    """The built-in show's folder, or the bundle folder or zip `spec` names; unpacks nothing."""
    try:
        return _locate(str(spec))
    except OSError as exc:  # a name too long, a folder we may not read, a vanished USB stick
        raise ShowError(f"{str(spec)[:200]}: cannot read ({exc.strerror or exc})") from exc


def _locate(spec: str) -> Path:
    builtin = BUILTIN_DIR / spec
    if "/" not in spec and "\\" not in spec and (builtin / MANIFEST).is_file():
        return builtin
    path = Path(spec).expanduser()
    if not path.exists():
        names = sorted(p.name for p in BUILTIN_DIR.iterdir() if (p / MANIFEST).is_file())
        raise ShowError(f"{spec}: no such show bundle (built-in shows: {', '.join(names)})")
    if path.is_dir() or (path.is_file() and zipfile.is_zipfile(path)):
        return path
    raise ShowError(f"{path}: a show is a folder with {MANIFEST} or a zip of one")


def _unpack_zip(path: Path, out: Path) -> Path:
    """Unpack into `out` (the caller removes it); the zip itself is never modified."""
    try:
        with zipfile.ZipFile(path) as zf:
            zf.extractall(out)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ShowError(f"{path}: unreadable zip ({exc})") from exc
    if (out / MANIFEST).is_file():
        return out
    subdirs = [p for p in out.iterdir() if (p / MANIFEST).is_file()]
    if len(subdirs) == 1:
        return subdirs[0]
    raise ShowError(f"{path}: the zip holds no {MANIFEST}")


_digests: dict[tuple, str] = {}  # (path, size, mtime, inode) -> SHA-256: a file is hashed once while unchanged
_DIGESTS_KEPT = 64


def sha256_of(path: Path) -> str:
    """The file's SHA-256. A show load checks each model file against its manifest and then keys
    the parsed-model cache by the same digest (torchscript.py): the second ask costs a stat."""
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns, st.st_ino)
    digest = _digests.get(key)
    if digest is None:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        digest = h.hexdigest()
        if len(_digests) >= _DIGESTS_KEPT:
            _digests.clear()
        _digests[key] = digest
    return digest


def _need(table: dict, key: str, kind: type | tuple, where: str) -> Any:
    if key not in table:
        raise ShowError(f"{where}: missing key '{key}'")
    value = table[key]
    if isinstance(value, bool) or not isinstance(value, kind):
        raise ShowError(f"{where}: '{key}' should be {getattr(kind, '__name__', kind)}, got {value!r}")
    return value


def _vector(table: dict, key: str, n: int, where: str) -> np.ndarray:
    value = _need(table, key, list, where)
    arr = np.asarray(value, dtype=np.float64)
    if arr.shape != (n,) or not np.all(np.isfinite(arr)):
        raise ShowError(f"{where}: '{key}' should be {n} finite numbers, got shape {arr.shape}")
    return arr.astype(np.float32)


def load_manifest(root: Path) -> Manifest:
    """Parse and check `show.toml` (not the model files: `runtime.ShowRuntime.load` checks those)."""
    path = root / MANIFEST
    if not path.is_file():
        raise ShowError(f"{path}: missing (a show bundle is a folder with {MANIFEST})")
    doc = read_toml(path, ShowError, "show manifest")
    where = str(path)
    try:
        manifest_schema.check(doc)
    except manifest_schema.SchemaError as exc:
        raise ShowError(f"{where}: {exc}") from exc
    version = _need(doc, "format", int, where)
    if version > FORMAT_VERSION:
        raise ShowError(f"{where}: format {version} is newer than this latentvj reads ({FORMAT_VERSION})")
    enc = _need(doc, "encoder", dict, where)
    dec = _need(doc, "decoder", dict, where)
    ew, dw = f"{where} [encoder]", f"{where} [decoder]"
    enc_kind = _need(enc, "kind", str, ew)
    if enc_kind not in ENCODER_KINDS:
        raise ShowError(f"{ew}: kind '{enc_kind}' is not one of {ENCODER_KINDS}")
    dec_kind = _need(dec, "kind", str, dw)
    if dec_kind not in DECODER_KINDS:
        raise ShowError(f"{dw}: kind '{dec_kind}' is not one of {DECODER_KINDS}")
    enc_dim = _need(enc, "latent_dim", int, ew)
    context = dec.get("context", 1)
    if isinstance(context, bool) or not isinstance(context, int):
        raise ShowError(f"{dw}: 'context' should be int, got {context!r}")
    try:
        if version >= 2:
            cond = parse_conditioning(doc.get("conditioning"), where, enc_dim if enc_kind == "rave" else 0)
        else:  # format 1: the encoder's output is the one stream, its stats in [latent]
            lat = _need(doc, "latent", dict, where)
            mean = _vector(lat, "mean", enc_dim, f"{where} [latent]")
            std = _vector(lat, "std", enc_dim, f"{where} [latent]")
            if np.any(std <= 0):
                raise ShowError(f"{where} [latent]: 'std' must be positive")
            cond = single_stream("rave" if enc_kind == "rave" else "features", mean, std, max(context, 1), enc_dim)
    except ConditioningError as exc:
        raise ShowError(str(exc)) from exc
    m = Manifest(
        root=root,
        name=_need(doc, "name", str, where),
        encoder_kind=enc_kind,
        encoder_file=enc.get("file", ""),
        sample_rate=_need(enc, "sample_rate", int, ew),
        hop=_need(enc, "hop", int, ew),
        encoder_dim=enc_dim,
        conditioning=cond,
        decoder_kind=dec_kind,
        decoder_file=_need(dec, "file", str, dw),
        latent_dim=_need(dec, "latent_dim", int, dw),
        context=context,
        width=_need(dec, "width", int, dw),
        height=_need(dec, "height", int, dw),
        fps=float(dec.get("fps", 30)),  # manifest_schema checked the types of all of these
        checksums=dict(doc.get("checksums", {})),
        provenance=dict(doc.get("provenance", {})),
    )
    if min(m.sample_rate, m.hop, m.encoder_dim, m.latent_dim, m.context, m.width, m.height) < 1:
        raise ShowError(f"{where}: sizes must be positive")
    if enc_kind == "rave" and not m.encoder_file:
        raise ShowError(f"{ew}: a RAVE show needs 'file'")
    n_builtin = len(default_names("features"))
    if enc_kind == "features" and enc_dim != n_builtin:
        raise ShowError(f"{ew}: the built-in features have {n_builtin} dims, 'latent_dim' says {enc_dim}")
    if dec_kind == "image":
        if m.context != 1:
            raise ShowError(f"{dw}: an image decoder takes one latent ('context' 1, got {m.context}); the "
                            "conditioning window is the mapping's")
        m.network = _network_mapping(_need(doc, "mapping", dict, where), m.latent_dim, f"{where} [mapping]")
    elif m.context != cond.context:
        raise ShowError(f"{dw}: 'context' is {m.context}, the longest [[conditioning]] window is {cond.context}")
    if dec_kind == "image":
        return m  # the mapping's output size is checked against the decoder on load
    if dec_kind == "vae" or "mapping" in doc:
        mp = _need(doc, "mapping", dict, where)
        mw = f"{where} [mapping]"
        try:
            weight = np.asarray(_need(mp, "weight", list, mw), dtype=np.float64)
        except (TypeError, ValueError):
            weight = np.zeros(0)
        if weight.shape != (m.latent_dim, cond.dim) or not np.all(np.isfinite(weight)):
            raise ShowError(
                f"{mw}: 'weight' should be {m.latent_dim}x{cond.dim} (decoder latent_dim x conditioning "
                f"dims), got shape {weight.shape}"
            )
        if len({st.window for st in cond.streams}) > 1:
            raise ShowError(f"{mw}: a mapped (VAE) show's decoder sees a window of mapped latents, so every "
                            "[[conditioning]] stream must have the same window")
        m.mapping_weight = weight.astype(np.float32)
        m.mapping_bias = _vector(mp, "bias", m.latent_dim, mw)
    elif m.latent_dim != cond.dim:
        raise ShowError(
            f"{where}: decoder latent_dim {m.latent_dim} != the conditioning's {cond.dim} dims "
            f"({', '.join(f'{s.kind} {s.dim}' for s in cond.streams)}): a latent decoder takes them as they are"
        )
    return m


def _network_mapping(mp: dict, latent_dim: int, where: str) -> NetworkMapping:
    value = _need(mp, "runs", list, where)
    ok = all(isinstance(r, list) and len(r) == 2 and all(isinstance(v, int) and not isinstance(v, bool) for v in r)
             for r in value)
    runs = np.asarray(value if ok else [], dtype=np.int64).reshape(-1, 2)
    if not ok or len(runs) == 0 or runs[0, 0] != 0 \
            or np.any(runs[:, 1] <= runs[:, 0]) or np.any(runs[1:, 0] != runs[:-1, 1]):
        raise ShowError(f"{where}: 'runs' should be [[0, end], [end, end2], ...]: contiguous runs of frames")
    fps = _need(mp, "fps", (int, float), where)
    on = _need(mp, "redraw_on", list, where)
    bad = [e for e in on if e not in EVENTS]
    if bad or not on:
        raise ShowError(f"{where}: 'redraw_on' should name some of {', '.join(EVENTS)}, got {on!r}")
    p = _need(mp, "redraw_probability", (int, float), where)
    lo = _need(mp, "redraw_min_s", (int, float), where)
    hi = _need(mp, "redraw_max_s", (int, float), where)
    if not (fps > 0 and 0 <= p <= 1 and 0 <= lo <= hi):
        raise ShowError(f"{where}: need fps > 0, 0 <= redraw_probability <= 1 and 0 <= redraw_min_s <= redraw_max_s")
    explained = _vector(mp, "explained", latent_dim, where) if "explained" in mp else None
    return NetworkMapping(_need(mp, "file", str, where), _need(mp, "residuals", str, where), runs, float(fps),
                          ShotRules(tuple(on), float(p), float(lo), float(hi)), explained)


def verify_checksums(m: Manifest) -> None:
    for name in m.files:
        path = m.root / name
        if not path.is_file():
            raise ShowError(f"{path}: missing (named in {m.manifest_path})")
        want = m.checksums.get(name)
        if want and sha256_of(path) != want:
            raise ShowError(f"{path}: checksum differs from {m.manifest_path}: the file changed or is corrupt")


def bundle_digest(m: Manifest) -> str:
    """One digest of a bundle's content: its manifest (which holds every model file's checksum,
    checked at load) and any file the manifest gives no checksum. A recorded set names its shows
    by it, so a replay can tell that a bundle changed since."""
    h = hashlib.sha256(m.manifest_path.read_bytes())
    for name in sorted(m.files):
        if not m.checksums.get(name):
            h.update(sha256_of(m.root / name).encode())
    return h.hexdigest()


def show_digest(spec: str | Path) -> tuple[str, str]:
    """(name, bundle_digest) of a bundle without loading its models: to check a show is the one a
    recording names before a replay spends minutes on it."""
    with open_show(spec) as (root, source):
        m = load_manifest(root)
        return m.name, bundle_digest(m)


def write_manifest(
    root: Path,
    *,
    name: str,
    encoder: dict[str, Any],
    conditioning: Conditioning,
    decoder: dict[str, Any],
    mapping: dict[str, Any] | None = None,
    provenance: dict[str, Any] | None = None,
) -> Path:
    """Write `show.toml` with checksums of the model files already in `root`. `mapping`: an
    affine one ({weight, bias}) or an image show's table as it goes in the file ({file, ...})."""
    doc: dict[str, Any] = {"format": FORMAT_VERSION, "name": name, "encoder": dict(encoder)}
    doc["conditioning"] = conditioning.to_toml()
    doc["decoder"] = dict(decoder)
    files = [encoder.get("file"), decoder.get("file")]
    if mapping is not None and "file" in mapping:
        doc["mapping"] = dict(mapping)
        files += [mapping["file"], mapping["residuals"]]
    elif mapping is not None:
        doc["mapping"] = {
            "weight": np.asarray(mapping["weight"], dtype=np.float64).tolist(),
            "bias": [float(x) for x in np.asarray(mapping["bias"]).ravel()],
        }
    doc["checksums"] = {f: sha256_of(root / f) for f in files if f}
    prov = {"created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}
    prov.update(provenance or {})
    doc["provenance"] = prov
    path = root / MANIFEST
    tmp = path.with_suffix(".toml.tmp")
    tmp.write_text(dumps_toml(doc))
    tmp.replace(path)
    return path
