"""Reading a take back: checked on opening, so a replay either starts or says exactly what is
wrong (a missing file, a newer format, a show that changed since), and a take cut short is read
up to its last whole event, frame and second of audio.
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av
import numpy as np

from ..control.vocabulary import pattern_of
from ..show.bundle import ShowError, show_digest
from ..toml_io import read_toml
from .take_format import (AUDIO_DIR, CHUNK_SUFFIX, EVENTS, FIELDS, FORMAT, FRAME, FRAMES, HEADER, HEADER_FIELDS,
                          RecordError, chunk_name)


def read_flac(path: Path, channels: int) -> np.ndarray:
    """A chunk back to (n, channels) float32, exactly the samples written."""
    try:
        with av.open(str(path)) as f:
            parts = [fr.to_ndarray() for fr in f.decode(audio=0)]
    except (av.FFmpegError, OSError) as exc:
        raise RecordError(f"{path}: cannot read ({exc})") from exc
    pcm = np.concatenate([p.reshape(-1) for p in parts]) if parts else np.zeros(0, np.int32)
    return (pcm.reshape(-1, channels).astype(np.float64) / 2.0 ** 31).astype(np.float32)


class TakeAudio:
    """The take's audio by sample position, decoded a chunk at a time (a set of an hour does not
    fit in memory as float32); the few chunks read last are kept."""

    KEEP = 4

    def __init__(self, folder: Path, chunks: int, chunk_len: int, channels: int, samples: int) -> None:
        self.folder, self.chunks, self.chunk_len, self.channels = folder, chunks, chunk_len, channels
        self.samples = samples  # how many there are
        self._cache: dict[int, np.ndarray] = {}

    def _chunk(self, k: int) -> np.ndarray:
        got = self._cache.get(k)
        if got is None:
            got = read_flac(self.folder / AUDIO_DIR / chunk_name(k), self.channels)
            if len(got) != self.chunk_len and k != self.chunks - 1:
                raise RecordError(f"{self.folder / AUDIO_DIR / chunk_name(k)}: {len(got)} samples, "
                                  f"expected {self.chunk_len} (only the last chunk may be shorter)")
            if len(self._cache) >= self.KEEP:
                self._cache.pop(next(iter(self._cache)))
            self._cache[k] = got
        return got

    def read(self, start: int, n: int) -> np.ndarray:
        """(n', channels) from sample `start`; shorter (n' < n) only at the end of the take."""
        n = max(0, min(n, self.samples - start))
        out = np.empty((n, self.channels), dtype=np.float32)
        done = 0
        while done < n:
            k, off = divmod(start + done, self.chunk_len)
            part = self._chunk(k)[off : off + n - done]
            out[done : done + len(part)] = part
            done += len(part)
        return out


@dataclass
class Take:
    folder: Path
    header: dict[str, Any]
    events: list[dict[str, Any]]
    frames: np.ndarray  # FRAME records
    audio: TakeAudio
    notes: list[str] = field(default_factory=list)  # what was cut short, for info and the replay's log

    @property
    def clean(self) -> bool:
        return bool(self.events) and self.events[-1].get("kind") == "stop"

    @property
    def sample_rate(self) -> int:
        return int(self.header["audio"]["sample_rate"])

    @property
    def fps(self) -> float:
        return float(self.header["engine"]["fps"])

    @property
    def seconds(self) -> float:
        return self.audio.samples / self.sample_rate

    def playable_frames(self) -> np.ndarray:
        """The frame records whose audio the take holds: all of a clean take's (the last ones hold
        the last latent after the audio's end, as live), a take cut short's up to its last second."""
        if self.clean:
            return self.frames
        return self.frames[self.frames["media"] <= self.start_event()["t0"] + self.seconds]

    def start_event(self) -> dict[str, Any]:
        """Where the take's audio begins (a control message handled meanwhile may come before it)."""
        return next(e for e in self.events if e["kind"] == "start")

    def shows(self) -> dict[int, dict[str, Any]]:
        """serial -> the start or install event naming the show."""
        return {e["serial"]: e for e in self.events if e["kind"] in ("start", "install")}

    @classmethod
    def open(cls, folder: str | Path) -> Take:
        folder = Path(folder).expanduser()
        if not (folder / HEADER).is_file():
            takes = sorted(p.name for p in folder.glob(f"*/{HEADER}")) if folder.is_dir() else []
            if takes:
                names = sorted(Path(t).parent.name for t in takes)
                raise RecordError(f"{folder} is a folder of takes ({', '.join(names[-5:])}); name one of them")
            raise RecordError(f"{folder}: no {HEADER} here: not a recorded take (or its first file is missing)")
        header = read_toml(folder / HEADER, RecordError, "take")
        version = header.get("format")
        if not isinstance(version, int) or version > FORMAT:
            raise RecordError(f"{folder / HEADER}: format {version!r}; this latentvj reads format {FORMAT} "
                              f"and older (the take was made by latentvj {header.get('latentvj', '?')}: update)")
        for table, keys in HEADER_FIELDS.items():
            if not isinstance(header.get(table), dict):
                raise RecordError(f"{folder / HEADER}: no [{table}] table")
            missing = [k for k in keys if k not in header[table]]
            if missing:
                raise RecordError(f"{folder / HEADER}: [{table}] has no {', '.join(missing)}")
        notes: list[str] = []
        events = _read_events(folder / EVENTS, notes)
        if not any(e.get("kind") == "start" for e in events):
            raise RecordError(f"{folder / EVENTS}: the take has no start event (it was cut before its first block of audio)")
        frames = _read_frames(folder / FRAMES, notes)
        audio = _read_audio_index(folder, header)
        take = cls(folder, header, events, frames, audio, notes)
        if not take.clean:
            last = take.playable_frames()
            where = f"frame {int(last['frame'][-1])} at {last['media'][-1]:.2f} s" if len(last) else "its first frame"
            notes.append(f"the take did not end cleanly (killed or a power cut?): it replays up to {where}")
        return take

    def info(self) -> str:
        """`latentvj record info`: what a VJ wants to know before replaying it."""
        a, e = self.header["audio"], self.header["engine"]
        frames = self.playable_frames()
        dropped = int(frames["frame"][-1] - frames["frame"][0] + 1 - len(frames)) if len(frames) else 0
        kinds = Counter(ev["kind"] for ev in self.events)
        messages = Counter(pattern_of(ev["address"]) for ev in self.events if ev["kind"] == "message")
        shows = {}
        for ev in self.shows().values():
            shows.setdefault(ev["show"], f"{ev['checksum'][:12]}, {_bundle_state(ev)}")
        lines = [
            f"take {self.folder}: {self.seconds:.1f} s of audio, {len(frames)} frames at {e['fps']:g} fps "
            f"({dropped} dropped live), input {self.header['input'].get('name', '?')} "
            f"({a['sample_rate']} Hz, {a['channels']} ch)",
            f"recorded {self.header.get('started', '?')} by latentvj {self.header.get('latentvj', '?')}, "
            f"format {self.header['format']}; output {e.get('width', '?')}x{e.get('height', '?')}",
            "shows: " + ", ".join(f"{name} ({digest})" for name, digest in shows.items()),
            "events: " + ", ".join(f"{k} {kinds[k]}" for k in ("install", "take", "state", "message", "lost", "error")
                                   if kinds[k]),
        ]
        if messages:
            lines.append("messages: " + ", ".join(f"{k} {n}" for k, n in messages.most_common()))
        lines.append("ended cleanly" if self.clean else "did NOT end cleanly")
        lines += self.notes
        return "\n".join(lines)


def _bundle_state(ev: dict[str, Any]) -> str:
    """Whether the bundle a show was played from is still the one the take names."""
    try:
        _, digest = show_digest(ev["source"])
    except ShowError:
        return f"{ev['source']} is gone"
    return "unchanged" if digest == ev["checksum"] else f"{ev['source']} CHANGED since"


def _read_events(path: Path, notes: list[str]) -> list[dict[str, Any]]:
    try:
        text = path.read_bytes().decode("utf-8", errors="replace")
    except FileNotFoundError:
        raise RecordError(f"{path}: missing") from None
    except OSError as exc:
        raise RecordError(f"{path}: cannot read ({exc.strerror})") from exc
    lines = text.split("\n")
    events = []
    for i, line in enumerate(lines, 1):
        if not line:
            continue
        last = i == len(lines)  # no newline after it: the write was cut
        try:
            doc = json.loads(line) if not last else None
        except json.JSONDecodeError:
            doc = None
        if doc is None or not isinstance(doc, dict) or "kind" not in doc:
            if last or all(not rest for rest in lines[i:]):
                notes.append(f"{path.name} ends in the middle of an event (line {i}); replaying what comes before it")
                break
            raise RecordError(f"{path}: line {i} is not an event ({line[:80]!r})")
        missing = [f for f in FIELDS.get(doc["kind"], ()) if f not in doc]
        if missing:
            raise RecordError(f"{path}: line {i}: a {doc['kind']} event without {', '.join(missing)}")
        events.append(doc)
    installed = {e["serial"] for e in events if e["kind"] in ("start", "install")}
    for e in events:
        if e["kind"] == "take" and e["serial"] not in installed:
            raise RecordError(f"{path}: show {e['serial']} is drawn from frame {e['frame']} but never installed")
    return events


def _read_frames(path: Path, notes: list[str]) -> np.ndarray:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise RecordError(f"{path}: missing") from None
    whole = len(raw) // FRAME.itemsize * FRAME.itemsize
    if whole != len(raw):
        notes.append(f"{path.name} ends in the middle of a frame record; replaying the {whole // FRAME.itemsize} before it")
    frames = np.frombuffer(raw[:whole], dtype=FRAME)
    if len(frames) > 1 and (np.diff(frames["frame"]) <= 0).any():
        raise RecordError(f"{path}: frame numbers do not increase: not a take's frame records")
    return frames


def _read_audio_index(folder: Path, header: dict) -> TakeAudio:
    a = header["audio"]
    rate, channels = int(a["sample_rate"]), int(a["channels"])
    chunk_len = int(round(float(a["chunk_seconds"]) * rate))
    audio_dir = folder / AUDIO_DIR
    if not audio_dir.is_dir():
        raise RecordError(f"{audio_dir}: missing (the take's audio)")
    names = sorted(p.name for p in audio_dir.iterdir() if p.name.endswith(CHUNK_SUFFIX))
    for k, name in enumerate(names):
        if name != chunk_name(k):
            raise RecordError(f"{audio_dir / chunk_name(k)}: missing (the take has chunks up to {names[-1]})")
    if not names:
        return TakeAudio(folder, 0, chunk_len, channels, 0)
    last = read_flac(audio_dir / names[-1], channels)
    samples = (len(names) - 1) * chunk_len + len(last)
    return TakeAudio(folder, len(names), chunk_len, channels, samples)

