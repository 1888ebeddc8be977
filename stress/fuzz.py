"""Mutated OSC packets built from valid messages for every address the daemon takes: truncation,
bit flips, wrong type tags, huge strings, Unicode digits in dimension indices, nested bundles,
bundle sizes that lie. Deterministic for a seed, so a failure can be replayed."""
from __future__ import annotations

import random
import struct

from pythonosc.osc_message_builder import OscMessageBuilder

from latentvj.daemon.control.vocabulary import ADDRESSES


def message(address: str, *args) -> bytes:
    b = OscMessageBuilder(address=address)
    for a in args:
        b.add_arg(a)
    return b.build().dgram


def valid_messages(dim: int) -> list[bytes]:
    """One valid message per address of the vocabulary (the README's table), dimension ones per dimension."""
    out = []
    for address, types, *_ in ADDRESSES:
        if address in ("/latentvj/show", "/latentvj/preset/save", "/latentvj/preset/load", "/latentvj/midi/learn"):
            out.append(message(address, "fuzz"))  # refused cheaply: no such show/preset, no MIDI
        elif "<i>" in address:
            out += [message(address.replace("<i>", str(i)), 0.5) for i in range(dim)]
        elif types == "f":
            out.append(message(address, 0.5))
        elif types == "i":
            out.append(message(address, 0))
        elif types == "i...":
            out.append(message(address, *range(dim)))
        else:
            out.append(message(address))
    return out


def _bundle(contents: list[bytes]) -> bytes:
    """A bundle of raw datagrams, timetag "now" (python-osc's builder takes only parsed ones)."""
    return b"#bundle\x00" + struct.pack(">Q", 1) + b"".join(struct.pack(">i", len(c)) + c for c in contents)


def mutate(rng: random.Random, base: bytes, pool: list[bytes]) -> bytes:
    kind = rng.randrange(10)
    if kind == 0:  # truncation
        return base[:rng.randrange(len(base))]
    if kind == 1:  # bit flips
        b = bytearray(base)
        for _ in range(rng.randint(1, 4)):
            i = rng.randrange(len(b))
            b[i] ^= 1 << rng.randrange(8)
        return bytes(b)
    if kind == 2:  # wrong type tags
        tags = rng.choice([",s", ",i", ",ff", ",c", ",S", ",[i", ",]", ",b", ",t", ",T", ",x", ""])
        addr = base[:base.find(b"\x00")].decode("latin-1")
        return (addr.encode("latin-1") + b"\x00" * (4 - len(addr) % 4) + tags.encode()
                + b"\x00" * (4 - len(tags) % 4) + bytes(rng.randrange(0, 12)))
    if kind == 3:  # huge strings
        return message(rng.choice(["/latentvj/show", "/latentvj/preset/load", "/latentvj/preset/save",
                                   "/latentvj/midi/learn"]), "x" * rng.choice([300, 5000, 40000]))
    if kind == 4:  # Unicode and overlong digits in dimension indices
        idx = rng.choice(["\u00b2", "\u0663", "\uff11", "9" * 5000, "-1", "1e3", " 1", "00000000001"])
        return message(f"/latentvj/{rng.choice(['bias', 'scale'])}/{idx}", 0.5)
    if kind == 5:  # nested bundles, some too deep
        content = base
        for _ in range(rng.randint(1, 7)):
            content = _bundle([content])
        return content
    if kind == 6:  # bundle sizes that lie
        b = bytearray(_bundle([base, rng.choice(pool)]))
        struct.pack_into(">i", b, 16, rng.choice([-4, 0, 3, 9999, len(b)]))
        return bytes(b)
    if kind == 7:  # random bytes behind a valid start
        return base[:rng.randrange(len(base) + 1)] + rng.randbytes(rng.randrange(1, 64))
    if kind == 8:  # wrong values in a well-formed message
        addr = base[:base.find(b"\x00")].decode("latin-1")
        return message(addr, rng.choice([float("nan"), float("inf"), -1e30, 7, "x", 2 ** 31 - 1]))
    return rng.randbytes(rng.randrange(1, 200))  # garbage


def fuzz_packets(n: int, dim: int, seed: int = 0) -> list[bytes]:
    """n mutated packets (a list: built before the clock starts, so sending is not slowed by building)."""
    rng = random.Random(seed)
    pool = valid_messages(dim)
    return [mutate(rng, rng.choice(pool), pool) for _ in range(n)]
