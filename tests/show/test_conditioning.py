"""Shows declare their conditioning (format 2): music-stream shows, windows, and bad declarations."""
import numpy as np
import pytest
import tomli_w
import tomllib

from conftest import CPU, make_decoder
from latentvj.daemon.audio.music_analysis import STREAM_NAMES
from latentvj.daemon.show.bundle import FORMAT_VERSION, ShowError, load_manifest
from latentvj.daemon.show.conditioning import Conditioning, Stream
from latentvj.daemon.show.pack import create_show
from latentvj.daemon.show.runtime import ShowRuntime

NAMES = ("loudness", "onset", "onset_kick", "chroma_C", "chroma_E", "chroma_G", "tempo", "beat_phase")


def music_conditioning(window: int = 1) -> Conditioning:
    mean = np.arange(8, dtype=np.float32)
    std = np.linspace(1, 2, 8, dtype=np.float32)
    return Conditioning((Stream("music", NAMES, window, mean, std),))


@pytest.fixture(scope="module")
def music_show(tmp_path_factory):
    d = tmp_path_factory.mktemp("music")
    return create_show(d / "show", make_decoder(d / "dec.ts", 8), conditioning=music_conditioning(), name="m")


def test_a_music_show_writes_format_2_and_standardises_named_columns(music_show):
    doc = tomllib.loads((music_show / "show.toml").read_text())
    assert doc["format"] == FORMAT_VERSION == 2 and "latent" not in doc
    assert doc["conditioning"][0]["stream"] == "music" and doc["conditioning"][0]["names"] == list(NAMES)
    rt = ShowRuntime.load(music_show, CPU)
    assert (rt.uses_music, rt.uses_clock, rt.cond_dim, rt.latent_dim) == (True, False, 8, 8)
    music = np.arange(len(STREAM_NAMES), dtype=np.float32) * 10  # column k holds 10 k
    out = np.full(8, np.nan, np.float32)
    rt.condition(np.zeros(rt.encoder_dim + rt.n_features, np.float32), music, out)
    want = np.array([STREAM_NAMES.index(n) * 10 for n in NAMES], np.float32)
    np.testing.assert_allclose(out, (want - np.arange(8)) / np.linspace(1, 2, 8), rtol=1e-6)


def test_shorter_windows_and_the_context_must_agree(tmp_path):
    cond = Conditioning((Stream("features", tuple(f"f{i}" for i in range(6)), 1, np.zeros(6), np.ones(6)),
                         Stream("music", ("onset", "onset_kick"), 3, np.zeros(2), np.ones(2))))
    show = create_show(tmp_path / "show", make_decoder(tmp_path / "dec.ts", 8, context=3), conditioning=cond)
    m = load_manifest(show)
    assert (m.context, m.latent_dim) == (3, 8)
    assert m.conditioning.layout() == [(0, 6, 1), (6, 2, 3)]


def rewrite(show, tmp_path, change) -> ShowError:
    doc = tomllib.loads((show / "show.toml").read_text())
    change(doc)
    bad = tmp_path / "bad"
    bad.mkdir()
    for f in show.iterdir():
        if f.name != "show.toml":
            (bad / f.name).write_bytes(f.read_bytes())
    (bad / "show.toml").write_text(tomli_w.dumps(doc))
    with pytest.raises(ShowError) as e:
        ShowRuntime.load(bad, CPU)
    return e.value


def _set(key, value, i=0):
    return lambda doc: doc["conditioning"][i].__setitem__(key, value)


@pytest.mark.parametrize("change, message", [
    (_set("stream", "midi"), "'stream' should be one of rave, music, features"),
    (_set("names", ["loudnes", *NAMES[1:]]), "'loudnes' is not a music stream column (did you mean 'loudness'?)"),
    (_set("names", ["onset"] * 8), "named twice"),
    (_set("window", 0), "'window' should be a whole number of rows from 1 to 256"),
    (_set("window", "2"), "'window' should be a whole number"),
    (_set("mean", [0.0] * 7), "'mean' should be 8 finite numbers"),
    (_set("std", [1.0] * 7 + [0.0]), "'std' must be positive"),
    (_set("stream", "rave"), "a 'rave' stream needs a RAVE [encoder]"),
    (lambda doc: doc.__setitem__("conditioning", []), "should list at least one stream"),
    (lambda doc: doc["conditioning"].append(dict(doc["conditioning"][0])), "each stream may appear once"),
    (lambda doc: doc["decoder"].__setitem__("latent_dim", 9), "decoder latent_dim 9 != the conditioning's 8 dims"),
    (lambda doc: doc["decoder"].__setitem__("context", 2), "'context' is 2, the longest [[conditioning]] window is 1"),
])
def test_a_bad_conditioning_is_refused_naming_the_table(music_show, tmp_path, change, message):
    err = rewrite(music_show, tmp_path, change)
    assert message in str(err) and "show.toml" in str(err)


def test_a_format_1_bundle_still_loads_as_one_stream(tmp_path, demo_show):
    """The show.toml the daemon wrote before shows declared their conditioning (format 1)."""
    import shutil

    shutil.copyfile(demo_show / "encoder.ts", tmp_path / "encoder.ts")
    make_decoder(tmp_path / "decoder.ts", 8, context=2)
    mean, std = [0.5] * 8, [2.0] * 8
    (tmp_path / "show.toml").write_text(tomli_w.dumps({
        "format": 1, "name": "old",
        "encoder": {"kind": "rave", "file": "encoder.ts", "sample_rate": 44100, "hop": 2048, "latent_dim": 8},
        "latent": {"mean": mean, "std": std},
        "decoder": {"kind": "latent", "file": "decoder.ts", "latent_dim": 8, "context": 2, "width": 32,
                    "height": 32, "fps": 30.0}}))
    rt = ShowRuntime.load(tmp_path, CPU)
    (stream,) = rt.conditioning.streams
    assert (stream.kind, stream.dim, stream.window, rt.context, rt.uses_music) == ("rave", 8, 2, 2, False)
    np.testing.assert_array_equal(stream.mean, mean)
    np.testing.assert_array_equal(stream.std, std)
