"""One OSC message as bytes, for every sender: UDP replies, OSC out, the WebSocket.

python-osc's builder does the encoding; this adds what all three senders need and python-osc
leaves to the caller: numpy scalars become Python numbers (the builder rejects them), strings
that OSC cannot carry are repaired instead of raising (a preset or show file name that is not
UTF-8 reaches Python with lone surrogates), and a float can be sent as a double where a float32
cannot hold it (wall times).
"""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from pythonosc.osc_message_builder import OscMessageBuilder


def utf8(text: str) -> str:
    """Undecodable file-name bytes (lone surrogates) become U+FFFD."""
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:  # a surrogate that did not come from the file system
        return text.encode("utf-8", "replace").decode("utf-8")


def encode(address: str, args: Iterable = (), doubles: bool = False) -> bytes:
    """address and arguments -> the datagram; `doubles`: floats as 64-bit (default 32-bit)."""
    b = OscMessageBuilder(address=utf8(address))
    for a in args:
        if isinstance(a, (float, np.floating)):
            b.add_arg(float(a), OscMessageBuilder.ARG_TYPE_DOUBLE if doubles else OscMessageBuilder.ARG_TYPE_FLOAT)
        elif isinstance(a, (np.integer, np.bool_)):
            b.add_arg(a.item())
        elif isinstance(a, str):
            b.add_arg(utf8(a))
        else:
            b.add_arg(a)
    return b.build().dgram
