from fractions import Fraction

import av
import numpy as np
import pytest

from latentvj.training.synth.synthetic import procedural_track, write_music_video
from latentvj.training.data.video_io import (
    VideoError,
    crop_resize,
    iter_audio,
    iter_frames,
    probe,
)


def test_probe_and_streams(music_videos):
    b = probe(music_videos[1])
    assert (b.width, b.height, b.audio_channels, b.audio_rate) == (60, 80, 6, 48000)
    audio = np.concatenate(list(iter_audio(music_videos[1], 44100)))  # 5.1 at 48 kHz -> mono 44.1 kHz
    assert abs(len(audio) / 44100 - 5.0) < 0.1 and np.abs(audio).max() > 0.1
    frames = list(iter_frames(music_videos[1], 30.0, 16))  # 25 fps source onto a 30 fps grid
    assert abs(len(frames) - 150) <= 1 and frames[0].shape == (16, 16, 3)


def test_crop_resize_takes_the_centre():
    img = np.zeros((20, 40, 3), np.uint8)
    img[:, 10:30] = 255  # the centre square is white, the sides black
    out = crop_resize(img, 8)
    assert out.shape == (8, 8, 3) and out.min() == 255


def test_variable_frame_rate_is_resampled_by_time(tmp_path):
    """Source frames at irregular times: each output time gets the frame on screen then."""
    path = tmp_path / "vfr.mkv"
    times = [0.0, 0.1, 0.15, 0.5, 0.52, 0.9]  # seconds
    with av.open(str(path), "w") as c:
        vs = c.add_stream("ffv1", rate=1000)
        vs.width = vs.height = 16
        vs.pix_fmt = "yuv444p"
        vs.time_base = Fraction(1, 1000)
        aus = c.add_stream("pcm_s16le", rate=8000, layout="mono")
        for i, t in enumerate(times):
            f = av.VideoFrame.from_ndarray(np.full((16, 16, 3), 40 * i, np.uint8), format="rgb24")
            f.pts, f.time_base = int(t * 1000), vs.time_base
            for p in vs.encode(f):
                c.mux(p)
        for p in vs.encode(None):
            c.mux(p)
        a = av.AudioFrame.from_ndarray(np.zeros((1, 8000), np.int16), format="s16", layout="mono")
        a.sample_rate = 8000
        for p in list(aus.encode(a)) + list(aus.encode(None)):
            c.mux(p)
    out = [int(f[0, 0, 0]) for f in iter_frames(path, 10.0, 16)]  # output times 0.0, 0.1, ...
    expected = [0, 1, 2, 2, 2, 3, 4, 4, 4, 5]  # index of the frame on screen at each time
    got = [round(v / 40) for v in out[:10]]
    assert got == expected


@pytest.mark.parametrize("case", ["no_audio", "not_video", "missing", "truncated"])
def test_bad_videos_name_the_file(tmp_path, case):
    path = tmp_path / f"{case}.mp4"
    if case == "no_audio":
        write_music_video(path, procedural_track(44100, 1.0), 32, 32, audio_layout=None)
    elif case == "not_video":
        path.write_bytes(b"not a video at all" * 100)
    elif case == "truncated":
        write_music_video(path, procedural_track(44100, 2.0), 32, 32)
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 3])  # moov atom lost
    with pytest.raises(VideoError, match=str(path.name)):
        probe(path)
