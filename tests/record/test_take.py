"""Reading a take back: what it holds, and a clear error (or a replay of what is whole) for each
way a take can be damaged."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from conftest import CPU
from latentvj.daemon.engine.replay import replay
from latentvj.daemon.record.take import Take
from latentvj.daemon.record.take_format import FRAME, RecordError
from record.live_take import FPS, MemorySink


def test_info_tells_length_shows_events_and_a_clean_end(live_take):
    text = Take.open(live_take.folder).info()
    assert "6.0 s of audio" in text and f"at {FPS} fps" in text
    assert "shows: demo (" in text and "features (" in text and text.count("unchanged") == 2
    assert "install 1, take 1" in text and "ended cleanly" in text


def test_a_take_cut_short_replays_everything_before_the_cut(live_take, take_copy):
    """What kill -9 leaves: no end marker, half an event line, half a frame record, and the audio
    up to its last whole second."""
    events = (take_copy / "events.jsonl").read_text().splitlines(keepends=True)
    (take_copy / "events.jsonl").write_text("".join(events[:-1]) + events[-2][: len(events[-2]) // 2])
    frames = (take_copy / "frames.bin").read_bytes()
    (take_copy / "frames.bin").write_bytes(frames[: FRAME.itemsize * 150 + 17])
    chunks = sorted((take_copy / "audio").iterdir())
    for c in chunks[4:]:
        c.unlink()
    take = Take.open(take_copy)
    assert not take.clean
    kept = np.frombuffer(frames[: FRAME.itemsize * 150], dtype=FRAME)
    playable = kept[kept["media"] <= 4.0]  # what the 4 whole seconds of audio cover
    last = int(playable["frame"][-1])
    text = take.info()
    assert "did NOT end cleanly" in text and "middle of an event" in text and "middle of a frame record" in text
    assert f"replays up to frame {last} at {playable['media'][-1]:.2f} s" in text
    sink = MemorySink()
    result = replay(take, CPU, [sink])
    assert result.frames == len(playable) and last >= 4 * FPS - 5  # (a loaded machine may drop a few live)
    j0 = int(playable["frame"][0])
    for j in playable["frame"]:
        np.testing.assert_array_equal(sink.frames[int(j) - j0], live_take.frames[int(j)], err_msg=f"frame {j}")


@pytest.mark.parametrize("damage, message", [
    (lambda t: (t / "record.toml").unlink(), "no record.toml here"),
    (lambda t: (t / "events.jsonl").unlink(), "events.jsonl: missing"),
    (lambda t: (t / "frames.bin").unlink(), "frames.bin: missing"),
    (lambda t: shutil.rmtree(t / "audio"), "audio: missing"),
    (lambda t: (t / "audio" / "000002.flac").unlink(), "000002.flac: missing"),
    (lambda t: (t / "record.toml").write_text((t / "record.toml").read_text().replace("format = 1", "format = 9")),
     "format 9; this latentvj reads format 1"),
    (lambda t: (t / "events.jsonl").write_text("{broken\n" + (t / "events.jsonl").read_text()),
     "line 1 is not an event"),
    (lambda t: (t / "events.jsonl").write_text((t / "events.jsonl").read_text().replace('"kind":"take","frame"',
                                                                                     '"kind":"take","frames"')),
     "a take event without frame"),
    (lambda t: (t / "record.toml").write_text((t / "record.toml").read_text().replace("fps =", "rate =")),
     r"\[engine\] has no fps"),
], ids=["header", "events", "frames", "audio", "chunk", "newer", "garbled", "field", "header key"])
def test_a_damaged_take_is_refused_naming_what_is_wrong(take_copy, damage, message):
    damage(take_copy)
    with pytest.raises(RecordError, match=message):
        Take.open(take_copy)


def test_a_folder_of_takes_asks_for_one(live_take):
    with pytest.raises(RecordError, match="a folder of takes"):
        Take.open(live_take.folder.parent)


def test_a_show_that_changed_since_is_refused_unless_given_again(take_copy, features_show):
    lines = (take_copy / "events.jsonl").read_text().splitlines()
    docs = [json.loads(x) for x in lines]
    for d in docs:
        if d["kind"] == "install":
            d["checksum"] = "0" * 64  # what a bundle rebuilt since would give
    (take_copy / "events.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs))
    take = Take.open(take_copy)
    assert "CHANGED since" in take.info()
    with pytest.raises(RecordError, match=r"show 'features': .* changed since the take.*--show features=BUNDLE"):
        replay(take, CPU, [MemorySink()])
    with pytest.raises(RecordError, match="plays no show of that name"):
        replay(take, CPU, [MemorySink()], overrides={"nosuch": str(features_show)})
    sink = MemorySink()
    replay(take, CPU, [sink], overrides={"features": str(features_show)})
    assert len(sink.frames) == len(take.frames)
