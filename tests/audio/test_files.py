"""Audio files (and video files' sound) decoded, resampled and folded to stereo; bad files named."""

import av
import numpy as np
import pytest

from latentvj.daemon.audio.files import AudioInputError, load_audio


def write(path, data, rate, layout, codec="pcm_s16le"):
    """data: (channels, n) float in [-1, 1]."""
    with av.open(str(path), "w") as c:
        s = c.add_stream(codec, rate=rate, layout=layout)
        f = av.AudioFrame.from_ndarray((data * 32767).astype(np.int16).T.reshape(1, -1).copy(), format="s16", layout=layout)
        f.sample_rate = rate
        for p in s.encode(f):
            c.mux(p)
        for p in s.encode(None):
            c.mux(p)


def test_stereo_48k_is_resampled_and_keeps_two_channels(tmp_path):
    t = np.arange(48000) / 48000
    write(tmp_path / "a.wav", np.stack([np.sin(2 * np.pi * 440 * t), np.zeros_like(t)]) * 0.5, 48000, "stereo")
    audio, rate = load_audio(tmp_path / "a.wav", 44100)
    assert rate == 44100 and audio.shape[1] == 2 and abs(len(audio) - 44100) < 64
    assert audio[:, 0].std() > 0.3 and audio[:, 1].std() < 1e-3


def test_surround_is_folded_to_stereo(tmp_path):
    write(tmp_path / "s.wav", np.full((6, 4800), 0.1), 48000, "5.1")
    audio, _ = load_audio(tmp_path / "s.wav")
    assert audio.shape == (4800, 2)


def test_video_without_audio_is_named(tmp_path):
    path = tmp_path / "silent.mp4"
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=10)
        s.width, s.height, s.pix_fmt = 32, 32, "yuv420p"
        for i in range(3):
            for p in s.encode(av.VideoFrame.from_ndarray(np.zeros((32, 32, 3), np.uint8), format="rgb24")):
                c.mux(p)
        for p in s.encode(None):
            c.mux(p)
    with pytest.raises(AudioInputError, match="silent.mp4: has no audio track"):
        load_audio(path)


def test_garbage_and_missing_files(tmp_path):
    (tmp_path / "junk.wav").write_bytes(b"\x00\x11garbage" * 100)
    with pytest.raises(AudioInputError, match="junk.wav"):
        load_audio(tmp_path / "junk.wav")
    with pytest.raises(AudioInputError, match="no such file"):
        load_audio(tmp_path / "nope.wav")


def test_truncated_file_keeps_what_decodes(tmp_path):
    write(tmp_path / "t.wav", np.full((1, 44100), 0.2), 44100, "mono")
    data = (tmp_path / "t.wav").read_bytes()
    (tmp_path / "t.wav").write_bytes(data[: len(data) // 2])
    audio, _ = load_audio(tmp_path / "t.wav")
    assert 0 < len(audio) < 44100
