"""ShowRuntime: encoding onto the clock, the rest state, the decoder-latent mapping, sizes."""
from dataclasses import replace
import numpy as np
import pytest

from conftest import CPU
from latentvj.daemon.audio.features import FeaturesEncoder
from latentvj.daemon.show.pack import create_show
from latentvj.daemon.show.runtime import ShowRuntime



@pytest.fixture(scope="module")
def biased_show(tmp_path_factory, small_decoder):
    """A features show with a known mapping (non-zero bias) and given latent stats."""
    rng = np.random.default_rng(5)
    weight = rng.standard_normal((8, 6))
    bias = rng.standard_normal(8)
    out = tmp_path_factory.mktemp("biased") / "show"
    stats = (rng.standard_normal(6) * 10, rng.uniform(1, 5, 6))
    create_show(out, small_decoder, encoder=None, mapping={"weight": weight, "bias": bias}, stats=stats)
    return out, weight, bias


def show_path(name, request):
    return "demo" if name == "demo" else request.getfixturevalue("features_show")


def rows_of(rt, track_mono, hops, reset=True):
    """Encode `hops` hops (from a reset state) and read every row back off a holding clock."""
    if reset:
        rt.reset()
    clock = rt.new_clock(0.0, interpolate=False)
    for i in range(hops):
        rt.encode_hop(track_mono[i * rt.hop : (i + 1) * rt.hop])
    rows = np.zeros((hops, rt.encoder_dim + rt.n_features), np.float32)
    for n in range(hops):
        assert clock.sample(clock.stamp(n), rows[n])
    return rows


@pytest.mark.parametrize("name", ["features", "demo"])
def test_encode_hop_pushes_one_row_per_hop(name, request, track_mono):
    rt = ShowRuntime.load(show_path(name, request), CPU)
    clock = rt.new_clock(0.0)
    assert clock.count == 0
    for i in range(5):
        rt.encode_hop(track_mono[i * rt.hop : (i + 1) * rt.hop])
        assert clock.count == i + 1
    assert clock.newest_time() == pytest.approx(5 * rt.period)
    assert rt.period == rt.hop / rt.sample_rate


@pytest.mark.parametrize("name", ["features", "demo"])
def test_the_same_audio_from_a_reset_gives_the_same_rows(name, request, track_mono):
    rt = ShowRuntime.load(show_path(name, request), CPU)
    hops = 24
    a = rows_of(rt, track_mono, hops)
    b = rows_of(rt, track_mono, hops)
    np.testing.assert_array_equal(a, b)
    c = rows_of(rt, track_mono, hops, reset=False)  # the encoder still holds the last audio's state
    assert not np.array_equal(a[0], c[0])
    assert np.ptp(a[:, : rt.encoder_dim], axis=0).max() > 0.1  # the rows follow the music
    # the features part is the features encoder's own output over the same audio, where a stream
    # reads it; a RAVE show without a features stream does not compute it at all
    if name == "demo":
        assert rt.n_features == 0 and rt.features is None
        return
    f = FeaturesEncoder(rt.sample_rate, rt.hop)
    want = np.stack([f.encode_hop(track_mono[i * rt.hop : (i + 1) * rt.hop]) for i in range(hops)])
    np.testing.assert_allclose(a[:, rt.encoder_dim :], want, rtol=1e-6)


def conditioned(rt, row, music=None):
    out = np.full(rt.cond_dim, np.nan, np.float32)
    rt.condition(row, np.zeros(rt.music.dim, np.float32) if music is None else music, out)
    return out


def test_rows_are_standardised_with_the_manifest_stats(features_show, track_mono):
    rt = ShowRuntime.load(features_show, CPU)
    hops = 16
    rows = rows_of(rt, track_mono, hops)
    (stream,) = rt.manifest.conditioning.streams
    assert stream.kind == "features"
    np.testing.assert_array_equal(rows[:, :6], rows[:, 6:])  # the clock keeps raw values
    got = np.stack([conditioned(rt, r) for r in rows])
    np.testing.assert_allclose(got, (rows[:, 6:] - stream.mean) / stream.std, rtol=1e-4, atol=1e-5)


def test_rest_state_of_a_features_show_is_silence_standardised(features_show):
    rt = ShowRuntime.load(features_show, CPU)
    clock = rt.new_clock(0.0)
    rest = np.full(rt.encoder_dim + rt.n_features, np.nan, np.float32)
    assert clock.sample(0.0, rest)
    silence = FeaturesEncoder(rt.sample_rate, rt.hop).encode_hop(np.zeros(rt.hop, np.float32))
    (stream,) = rt.manifest.conditioning.streams
    np.testing.assert_allclose(rest[6:], silence, rtol=1e-6)
    c = conditioned(rt, rest)
    np.testing.assert_allclose(c, (silence - stream.mean) / stream.std, rtol=1e-5, atol=1e-6)
    assert np.abs(c).max() > 0.5  # silence is far from the music's mean: not trivially zero


def test_rest_state_of_a_rave_show_is_the_mean_latent():
    rt = ShowRuntime.load("demo", CPU)
    rest = np.full(rt.encoder_dim + rt.n_features, np.nan, np.float32)
    rt.new_clock(0.0).sample(0.0, rest)
    assert rt.conditioning.streams[0].kind == "rave"
    np.testing.assert_array_equal(conditioned(rt, rest)[:8], 0.0)  # the mean latent standardises to 0


def test_to_decoder_latent_applies_the_mapping(biased_show):
    path, weight, bias = biased_show
    rt = ShowRuntime.load(path, CPU)
    assert (rt.encoder_dim, rt.latent_dim) == (6, 8)
    z = np.random.default_rng(0).standard_normal(6).astype(np.float32)
    out = np.zeros(8, np.float32)
    rt.to_decoder_latent(z, out)
    np.testing.assert_allclose(out, weight @ z + bias, rtol=1e-5, atol=1e-5)


def test_the_fixture_features_show_maps_with_its_weight(features_show):
    rt = ShowRuntime.load(features_show, CPU)
    weight = np.random.default_rng(0).standard_normal((8, 6)) * 0.5  # as conftest made it, bias 0
    z = np.linspace(-2, 2, 6).astype(np.float32)
    out = np.zeros(8, np.float32)
    rt.to_decoder_latent(z, out)
    np.testing.assert_allclose(out, weight @ z, rtol=1e-5, atol=1e-6)


def test_to_decoder_latent_is_the_identity_for_a_latent_show(latent_show):
    rt = ShowRuntime.load(latent_show, CPU)
    z = np.arange(8, dtype=np.float32) - 3.5
    out = np.zeros(8, np.float32)
    rt.to_decoder_latent(z, out)
    np.testing.assert_array_equal(out, z)


def test_describe_names_the_show(features_show):
    demo = ShowRuntime.load("demo", CPU).describe()
    assert "show 'demo'" in demo and "rave encoder 8-d" in demo and "image decoder 32-d -> 128x128" in demo
    feat = ShowRuntime.load(features_show, CPU).describe()
    assert "show 'features'" in feat and "features encoder 6-d" in feat and "vae decoder 8-d -> 32x32" in feat


@pytest.mark.parametrize("name", ["features", "demo"])
def test_an_output_size_resizes_the_decoder(name, request):
    rt = ShowRuntime.load(show_path(name, request), replace(CPU, size=(48, 40)))
    assert (rt.decoder.width, rt.decoder.height) == (48, 40)
    assert rt.decoder.resize.filter == "lanczos"  # the default filter
    assert "-> 48x40" in rt.describe()
    frame = np.zeros((40, 48, 4), np.uint8)
    rt.decoder.decode(np.zeros((rt.context, rt.latent_dim), np.float32), frame)
    assert (frame[..., 3] == 255).all() and frame[..., :3].any()


def test_the_upscale_filter_is_a_runtime_option(features_show):
    rt = ShowRuntime.load(features_show, replace(CPU, size=(64, 64), upscale="nearest"))
    assert rt.decoder.resize.filter == "nearest"


def test_the_music_stream_reads_silence_before_its_first_hop(features_show):
    """Before any audio, /latentvj/features must say silence (-100 dB), not 0 dB."""
    from latentvj.daemon.audio.music_analysis import STREAM_NAMES

    rt = ShowRuntime.load(features_show, CPU)
    rt.new_clock(0.0)
    row = np.empty(rt.music.dim, np.float32)
    rt.music_clock.sample(0.5, row)
    assert row[STREAM_NAMES.index("loudness")] == pytest.approx(-100.0)
    assert row[STREAM_NAMES.index("tempo")] == 0.0
