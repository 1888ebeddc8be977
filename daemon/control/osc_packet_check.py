"""A byte-level check of an OSC datagram before python-osc parses it.

python-osc trusts its input: it pads a short float with zeros (a truncated `/latentvj/scale 1.0`
arrives as scale 0), raises UnicodeDecodeError, IndexError and two different ParseError classes,
and logs a warning per unknown type tag. Walking the bytes first (sizes, padding, type tags that
python-osc handles, bundle nesting) means that whatever passes here parses cleanly, and whatever
does not is refused with one reason and no log noise.
"""
from __future__ import annotations

import struct

BUNDLE = b"#bundle\x00"
MAX_DEPTH = 4  # bundles inside bundles; the OSC spec allows any depth, nobody needs more
MAX_ADDRESS = 256  # bytes; the longest address the daemon takes is far shorter
MAX_STRING = 4096  # bytes of a string argument (a show's path); python-osc reads strings byte by byte
MAX_TAGS = 1024  # type tags (a permutation of a 1000-dimension latent)
# Type tags python-osc reads, with their fixed sizes in bytes (strings and blobs are sized apart).
FIXED = {"i": 4, "f": 4, "r": 4, "m": 4, "h": 8, "d": 8, "t": 8, "T": 0, "F": 0, "N": 0, "[": 0, "]": 0}


class PacketError(ValueError):
    """Why a datagram is not OSC the daemon can read."""


def _string(data: bytes, i: int, what: str, limit: int | None = None) -> tuple[str, int]:
    """An OSC string at i: ASCII/UTF-8 up to a NUL, padded to 4 bytes -> (text, next index)."""
    end = data.find(b"\x00", i, None if limit is None else i + limit + 1)
    if end < 0:
        raise PacketError(f"{what} at byte {i} has no terminating NUL"
                          + (f" within {limit} bytes" if limit is not None and len(data) - i > limit else ""))
    nxt = (end + 4) & ~3
    if nxt > len(data):
        raise PacketError(f"{what} at byte {i} is not padded to 4 bytes")
    try:
        text = data[i:end].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PacketError(f"{what} at byte {i} is not UTF-8") from exc
    return text, nxt


def _message(data: bytes) -> str:
    """Check one message; returns its address."""
    address, i = _string(data, 0, "address", MAX_ADDRESS)
    if not address.startswith("/") or not address.isprintable():
        raise PacketError(f"address {address[:64]!r} must start with '/' and hold printable characters")
    if i == len(data):
        return address  # no type tag string: no arguments (old OSC 1.0 senders)
    tags, i = _string(data, i, "type tags", MAX_TAGS)
    if not tags.startswith(","):
        raise PacketError(f"{address}: type tags {tags[:32]!r} must start with ','")
    depth = 0
    for t in tags[1:]:
        if t in FIXED:
            i += FIXED[t]
            depth += (t == "[") - (t == "]")
            if depth < 0:
                raise PacketError(f"{address}: ']' without '[' in type tags {tags!r}")
        elif t == "s":
            _, i = _string(data, i, f"{address}: string argument", MAX_STRING)
        elif t == "b":
            if i + 4 > len(data):
                raise PacketError(f"{address}: blob size missing at byte {i}")
            (n,) = struct.unpack_from(">i", data, i)
            if n < 0:
                raise PacketError(f"{address}: negative blob size {n}")
            i += 4 + ((n + 3) & ~3)
        else:
            raise PacketError(f"{address}: type tag {t!r} is not one the daemon reads (use i f d h s b T F N)")
        if i > len(data):
            raise PacketError(f"{address}: {len(data)} bytes, its type tags {tags!r} need more")
    if depth:
        raise PacketError(f"{address}: unclosed '[' in type tags {tags!r}")
    if i != len(data):
        raise PacketError(f"{address}: {len(data)} bytes, its type tags {tags!r} need {i}")
    return address


def check_packet(data: bytes, depth: int = 0) -> int:
    """Raise PacketError unless `data` is a well-formed message or bundle; returns how many
    messages it holds (the work it will cost)."""
    if len(data) % 4:
        raise PacketError(f"{len(data)} bytes is not a multiple of 4")
    if data.startswith(b"/"):
        _message(data)
        return 1
    if not data.startswith(BUNDLE):
        raise PacketError("neither a message (starts with '/') nor a bundle (starts with '#bundle')")
    if depth >= MAX_DEPTH:
        raise PacketError(f"bundles nested deeper than {MAX_DEPTH}")
    if len(data) < 16:
        raise PacketError("bundle shorter than its header and timetag")
    i, count = 16, 0
    while i < len(data):
        if i + 4 > len(data):
            raise PacketError(f"bundle element size missing at byte {i}")
        (n,) = struct.unpack_from(">i", data, i)
        i += 4
        if n <= 0 or n % 4 or i + n > len(data):
            raise PacketError(f"bundle element at byte {i - 4} has size {n}, {len(data) - i} bytes are left")
        count += check_packet(data[i:i + n], depth + 1)
        i += n
    return count
