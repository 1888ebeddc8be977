"""The take folder a recording writes, version 1 (docs/recording.md describes it for other tools).

    record.toml      written once at the start: format, the engine options, the input
    audio/NNNNNN.flac  the input as the engine heard it, 24-bit FLAC, one file per second
    events.jsonl     one JSON object a line, in the order they happened (kinds below)
    frames.bin       one FRAME record (48 bytes, little-endian) per published frame

Everything is append-only and flushed at least once a second; an audio chunk is written under a
temporary name and renamed when complete, so a take cut short by kill -9 or a power cut holds
whole chunks, whole frame records and whole event lines up to its last flush (a last line or
record cut in half is dropped on reading, with a note).

Event kinds: `start` (the show playing where the take begins), `install` (the encoder starts a
show's clock: at `at` samples of the take's audio, `t0` media time), `take` (the renderer draws
it from frame `frame`, with a fade of `fade` s), `state` (the controls the frames use from frame
`frame` on), `lost` (audio the engine never heard, at `at`), `message` (a control message as it
came in, for reading: the states carry what the frames used), `error`, `stop` (a clean end).
"""
from __future__ import annotations

import numpy as np

FORMAT = 1
HEADER = "record.toml"
EVENTS = "events.jsonl"
FRAMES = "frames.bin"
AUDIO_DIR = "audio"
CHUNK_SUFFIX = ".flac"
PARTIAL_SUFFIX = ".part"  # a chunk being written; never read
CHUNK_SECONDS = 1.0
FLUSH_S = 0.5  # events and frames reach the disk at least this often

# per published frame: its grid index, media time, and the latents each clock let it read (the
# outgoing show's during a fade; -1 without one)
FRAME = np.dtype([("frame", "<i8"), ("media", "<f8"), ("clock", "<i8"), ("music", "<i8"),
                  ("fade_clock", "<i8"), ("fade_music", "<i8")])
HEADER_FIELDS = {  # record.toml's tables and the keys a replay reads
    "audio": ("sample_rate", "channels", "chunk_seconds"),
    "engine": ("fps", "latency_margin_ms", "features_latency_ms", "seed", "channel", "interpolate", "fade_mode",
               "width", "height"),
    "input": (),
}
SHOW_FIELDS = ("serial", "show", "source", "checksum")
FIELDS = {  # what each kind of event must carry (more is allowed: a newer writer may add fields)
    "start": ("at", "t0", *SHOW_FIELDS),
    "install": ("at", "t0", "fade", "still", *SHOW_FIELDS),
    "take": ("frame", "t", "serial", "fade", "still"),
    "state": ("frame", "t", "values"),
    "lost": ("at", "frames"),
    "message": ("t", "address", "args"),
    "stop": ("frames", "samples"),
}

# FLAC's channel layouts by count (the order is kept as it came, whatever the names say)
LAYOUTS = {1: "mono", 2: "stereo", 3: "3.0", 4: "quad", 5: "5.0", 6: "5.1", 7: "6.1", 8: "7.1"}


def chunk_name(index: int) -> str:
    return f"{index:06d}{CHUNK_SUFFIX}"


class RecordError(ValueError):
    """A take that cannot be read or replayed; the message names the file and what is wrong."""
