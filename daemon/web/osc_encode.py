"""OSC messages for the WebSocket: what the page and OSCQuery clients receive as binary frames."""
from __future__ import annotations

from pythonosc.osc_message_builder import OscMessageBuilder

from .live_values import PREVIEW


def _utf8(text: str) -> str:
    """A file name that is not UTF-8 reaches Python with lone surrogates, which OSC cannot carry:
    its undecodable bytes become U+FFFD."""
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:  # a surrogate that did not come from the file system
        return text.encode("utf-8", "replace").decode("utf-8")


def encode(address: str, args: tuple) -> bytes:
    b = OscMessageBuilder(address=address)
    for a in args:
        if isinstance(a, float) and address == PREVIEW:
            b.add_arg(a, OscMessageBuilder.ARG_TYPE_DOUBLE)  # wall time: a float32 cannot hold it
        else:
            b.add_arg(_utf8(a) if isinstance(a, str) else a)
    return b.build().dgram
