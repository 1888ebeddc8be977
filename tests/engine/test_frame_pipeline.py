"""FramePipeline: media time -> latent -> controls -> decoder window -> RGBA, the part live and
offline rendering share."""
import numpy as np
import pytest

from conftest import CPU, make_decoder
from latentvj.daemon.control.state import Control
from latentvj.daemon.engine.frame_pipeline import FramePipeline
from latentvj.daemon.show.pack import create_show
from latentvj.daemon.show.runtime import ShowRuntime

FPS = 30.0


@pytest.fixture(scope="module")
def context3_show(tmp_path_factory, track_wav):
    """A VAE-style features show whose decoder looks at the 3 newest latents."""
    d = tmp_path_factory.mktemp("ctx3")
    dec = make_decoder(d / "decoder.ts", 8, 32, context=3)
    rng = np.random.default_rng(1)
    mapping = {"weight": rng.standard_normal((8, 6)) * 0.5, "bias": np.zeros(8)}
    return create_show(d / "show", dec, encoder=None, calibrate=track_wav, context=3, mapping=mapping)


@pytest.fixture(scope="module")
def six_dim_show(tmp_path_factory, track_wav):
    """A features show with a plain latent decoder: the decoder takes the 6 features as they are."""
    d = tmp_path_factory.mktemp("six")
    dec = make_decoder(d / "decoder.ts", 6, 32)
    return create_show(d / "show", dec, encoder=None, calibrate=track_wav)


def fed_runtime(show, track_mono, hops):
    rt = ShowRuntime.load(show, CPU)
    rt.new_clock(0.0)
    for i in range(hops):
        rt.encode_hop(track_mono[i * rt.hop : (i + 1) * rt.hop])
    return rt


def frame_of(rt):
    return np.zeros((rt.decoder.height, rt.decoder.width, 4), np.uint8)


def noisy_control(dim):
    c = Control(dim)
    c.set_noise(0.3)
    c.set_dim_scale(1, 1.5)
    return c


def test_same_time_control_and_seed_give_the_same_frames(features_show, track_mono):
    a_rt, b_rt = fed_runtime(features_show, track_mono, 40), fed_runtime(features_show, track_mono, 40)
    a = FramePipeline(a_rt, noisy_control(8), FPS, seed=7)
    b = FramePipeline(b_rt, noisy_control(8), FPS, seed=7)
    other_seed = FramePipeline(a_rt, noisy_control(8), FPS, seed=8)
    fa, fb, fo = frame_of(a_rt), frame_of(b_rt), frame_of(a_rt)
    for k in range(6):
        t = (10.3 + 3 * k) * a_rt.period  # between latents: interpolated
        assert a.make(t, fa) and b.make(t, fb) and other_seed.make(t, fo)
        np.testing.assert_array_equal(fa, fb, err_msg=f"frame {k}")
        np.testing.assert_array_equal(a.latent, b.latent)
        assert not np.array_equal(a.latent, other_seed.latent)  # the seed drives the noise
    assert not np.array_equal(fa, fo)


def test_make_reports_a_time_past_the_newest_latent_as_late(features_show, track_mono):
    rt = ShowRuntime.load(features_show, CPU)
    rt.new_clock(0.0)
    p = FramePipeline(rt, Control(8), FPS, seed=0)
    out = frame_of(rt)
    assert p.make(0.0, out)  # before the first latent is due: the rest state, on time
    assert not p.make(2.5 * rt.period, out)  # a latent should exist by then and does not
    for i in range(12):
        rt.encode_hop(track_mono[i * rt.hop : (i + 1) * rt.hop])
    newest = rt.clock.newest_time()
    assert newest == pytest.approx(12 * rt.period)
    assert p.make(0.5 * rt.period, out)
    assert p.make(newest - 0.25 * rt.period, out)
    assert not p.make(newest + 0.25 * rt.period, out)
    assert not p.make(newest + 3 * rt.period, out)


def test_the_latent_is_the_mapped_clock_sample_and_controls_change_it(features_show, track_mono):
    rt = fed_runtime(features_show, track_mono, 30)
    t = 17.6 * rt.period
    row = np.zeros(rt.encoder_dim + rt.n_features, np.float32)
    rt.clock.sample(t, row)
    cond = np.zeros(rt.cond_dim, np.float32)
    rt.condition(row, np.zeros(rt.music.dim, np.float32), cond)
    mapped = np.zeros(rt.latent_dim, np.float32)
    rt.to_decoder_latent(cond, mapped)

    plain = FramePipeline(rt, Control(8), FPS, seed=0)
    f_plain = frame_of(rt)
    assert plain.make(t, f_plain)
    np.testing.assert_array_equal(plain.latent, mapped)  # scale 1, bias 0: as the show maps it

    bias = np.array([0.5, -1.0, 0.25, 2.0, -0.75, 0.0, 1.5, -2.0], np.float32)
    control = Control(8)
    control.set_scale(0.0)
    for i, b in enumerate(bias):
        control.set_dim_bias(i, float(b))
    biased = FramePipeline(rt, control, FPS, seed=0)
    f_biased = frame_of(rt)
    assert biased.make(t, f_biased)
    np.testing.assert_array_equal(biased.latent, bias)

    expected = frame_of(rt)
    rt.decoder.decode(bias[None].copy(), expected)
    np.testing.assert_array_equal(f_biased, expected)
    assert not np.array_equal(f_biased, f_plain)


def test_a_context_window_holds_the_newest_latents_newest_last(context3_show, track_mono):
    rt = fed_runtime(context3_show, track_mono, 30)
    assert rt.context == 3
    p = FramePipeline(rt, Control(8), FPS, seed=0)
    out = frame_of(rt)
    latents = []
    for k in range(5):
        p.make((6.0 + 4 * k) * rt.period, out)
        latents.append(p.latent.copy())
        np.testing.assert_array_equal(p._latents.read()[-1], p.latent)
    want = np.stack(latents[-3:])
    np.testing.assert_array_equal(p._latents.read(), want)

    expected = frame_of(rt)
    rt.decoder.decode(want, expected)
    np.testing.assert_array_equal(out, expected)
    newest_only = want.copy()
    newest_only[:-1] = 0.0
    rt.decoder.decode(newest_only, expected)
    assert not np.array_equal(out, expected)  # the older rows matter to this decoder


def test_a_window_starts_from_zeros_before_the_first_frames(context3_show, track_mono):
    rt = fed_runtime(context3_show, track_mono, 10)
    p = FramePipeline(rt, Control(8), FPS, seed=0)
    p.make(4.0 * rt.period, frame_of(rt))
    np.testing.assert_array_equal(p._latents.read()[:-1], 0.0)
    np.testing.assert_array_equal(p._latents.read()[-1], p.latent)


def test_set_runtime_to_a_show_of_another_size_resizes_the_latent(features_show, six_dim_show, track_mono):
    rt8 = fed_runtime(features_show, track_mono, 20)
    control = Control(8)
    p = FramePipeline(rt8, control, FPS, seed=0)
    p.make(5.0 * rt8.period, frame_of(rt8))
    assert p.latent.shape == (8,)

    rt6 = fed_runtime(six_dim_show, track_mono, 20)
    assert rt6.latent_dim == rt6.encoder_dim == 6
    control.reset(6)  # as the engine does when the latent size changes
    p.set_runtime(rt6)
    assert p.runtime is rt6
    assert p.latent.shape == (6,)
    out = frame_of(rt6)
    t = 7.5 * rt6.period
    assert p.make(t, out)
    row = np.zeros(rt6.encoder_dim + rt6.n_features, np.float32)
    rt6.clock.sample(t, row)
    (stream,) = rt6.conditioning.streams
    # a latent decoder: the standardised features as they are
    np.testing.assert_allclose(p.latent, (row[6:] - stream.mean) / stream.std, rtol=1e-5, atol=1e-6)
    expected = frame_of(rt6)
    rt6.decoder.decode(p.latent[None].copy(), expected)
    np.testing.assert_array_equal(out, expected)


def test_a_batch_prepared_with_the_encoder_ahead_reads_what_each_frame_read_when_due(demo_show, track_wav):
    """Render feeds the encoder up to the batch's last frame before reading its first: each frame
    reads the clocks as they stood when it was due (their counts), and the mapping's one call for
    the batch differs from frame-by-frame calls by rounding only."""
    from latentvj.daemon.audio.files import load_audio

    def fresh():
        rt = ShowRuntime.load(demo_show, CPU)
        rt.new_clock(0.0)
        return rt, FramePipeline(rt, noisy_control(rt.latent_dim), FPS, seed=3)

    audio, _ = load_audio(track_wav, None)
    mono = np.ascontiguousarray(audio.mean(axis=1), dtype=np.float32)
    (rt1, one), (rt2, batched) = fresh(), fresh()
    times, windows = [], []
    for j in range(24):  # frame by frame, each read with its audio 50 ms short of in: late, as a slow encoder
        t = j / FPS
        while rt1.clock.newest_time() <= t - 0.05 and (rt1.clock.count + 1) * rt1.hop <= len(mono):
            rt1.encode_hop(mono[rt1.clock.count * rt1.hop : (rt1.clock.count + 1) * rt1.hop])
        while rt1.music_clock.newest_time() <= t - 0.05 and (rt1.music_clock.count + 1) * rt1.music.hop <= len(mono):
            n = rt1.music_clock.count
            rt1.encode_music_hop(mono[n * rt1.music.hop : (n + 1) * rt1.music.hop])
        times.append((t, t, (rt1.clock.count, rt1.music_clock.count)))
        one.prepare(t, t)
        windows.append(one.window.copy())
    for i in range(rt1.clock.count):  # the whole batch's audio first
        rt2.encode_hop(mono[i * rt2.hop : (i + 1) * rt2.hop])
    for i in range(rt1.music_clock.count):
        rt2.encode_music_hop(mono[i * rt2.music.hop : (i + 1) * rt2.music.hop])
    out = np.zeros((8, rt2.context, rt2.latent_dim), np.float32)
    for s in range(0, 24, 8):
        batched.prepare_batch(times[s : s + 8], out)
        np.testing.assert_allclose(out, np.stack(windows[s : s + 8]), atol=1e-5)
    assert np.abs(np.diff(np.stack(windows)[:, -1], axis=0)).max() > 0.01  # the frames do differ
