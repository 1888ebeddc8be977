import numpy as np
import torch

from latentvj.daemon.show.rave_encoder import RaveEncoder

CPU = torch.device("cpu")


def audio(hops, hop=2048, seed=0):
    return (np.random.default_rng(seed).standard_normal(hops * hop) * 0.2).astype(np.float32)


def run(enc, x):
    return np.stack([enc.encode_hop(x[i : i + enc.hop]) for i in range(0, len(x), enc.hop)])


def test_sizes_come_from_the_export(demo_show):
    enc = RaveEncoder(demo_show / "encoder.ts", CPU)
    m = torch.jit.load(str(demo_show / "encoder.ts"))
    assert [1, 1, enc.latent_dim, enc.hop] == m.encode_params.tolist()
    assert enc.sample_rate == int(m.sr)


def test_deterministic_mode_repeats_and_reset_restarts(demo_show):
    enc = RaveEncoder(demo_show / "encoder.ts", CPU, deterministic=True)
    enc.warmup(4)
    x = audio(20)
    a = run(enc, x)
    b = run(enc, x)  # state carried over: not the same as from silence
    enc.reset()
    c = run(enc, x)
    np.testing.assert_array_equal(a, c)
    assert not np.array_equal(a, b)


def test_mean_mode_is_the_average_of_sampling_mode(demo_show):
    det = RaveEncoder(demo_show / "encoder.ts", CPU, deterministic=True)
    sto = RaveEncoder(demo_show / "encoder.ts", CPU, deterministic=False)
    x = audio(12, seed=1)
    mean = run(det, x)
    draws = []
    for _ in range(40):
        sto.reset()
        draws.append(run(sto, x))
    draws = np.stack(draws)
    assert draws.std(axis=0).mean() > 0.01  # sampling really is noisy
    err = np.abs(draws.mean(axis=0) - mean).mean()
    assert err < 4 * draws.std(axis=0).mean() / np.sqrt(len(draws))
