import numpy as np
import pytest
import torch

from latentvj.training.show.image_model import (
    GradedDecoder,
    ImageAutoencoder,
    PatchDiscriminator,
    code_pca,
    fold_pca,
    fold_whitening,
    photometric_jitter,
    whiten,
)


def test_shapes_and_the_discriminator_sees_patches():
    ae = ImageAutoencoder(6, 32, 32, audio=2)
    x = torch.rand(2, 3, 32, 32)
    recon, mu, logvar, z = ae(x, torch.zeros(2, 2), torch.Generator().manual_seed(0))
    assert recon.shape == x.shape and mu.shape == logvar.shape == z.shape == (2, 6)
    score, feats = PatchDiscriminator()(x)
    assert score.shape == (2, 1, 4, 4) and len(feats) == 3


def _codes(rng, n: int, spread: list[float]) -> np.ndarray:
    return rng.standard_normal((n, len(spread))) * np.array(spread) + rng.standard_normal(len(spread))


@pytest.mark.parametrize("sound", ["light", "picture"])
def test_the_folded_decoder_takes_whitened_pca_coordinates_largest_first_per_part(sound):
    torch.manual_seed(0)
    ae = ImageAutoencoder(5, 32, 32, audio=3, sound=sound).eval()
    if sound == "light":  # a grade that does something, not the identity it starts as
        torch.nn.init.normal_(ae.decoder.light[-1].weight, std=0.3)
    rng = np.random.default_rng(0)
    a, z = _codes(rng, 200, [0.2, 3.0, 1.0]), _codes(rng, 200, [5, 0.1, 3, 1, 0.5])  # (N, part)
    pa, pz = code_pca(a), code_pca(z)
    assert np.all(np.diff(pz[2]) <= 0)  # spreads, largest first
    p = np.concatenate([whiten(a, pa), whiten(z, pz)], axis=1)
    assert np.allclose(p.std(0, ddof=1), 1.0, atol=1e-6) and np.allclose(p.mean(0), 0.0, atol=1e-9)
    folded = torch.jit.script(fold_pca(ae.decoder, pa, pz))
    with torch.no_grad():
        want = ae.decoder(torch.tensor(np.concatenate([a, z], 1)[:5], dtype=torch.float32))
        got = folded(torch.tensor(p[:5], dtype=torch.float32))
    assert (want - got).abs().max() < 1e-4


def test_a_linear_layer_folds_the_whitening_of_its_output():
    torch.manual_seed(0)
    lin = torch.nn.Linear(4, 3)
    x = torch.randn(100, 4)
    with torch.no_grad():
        y = lin(x).double().numpy()
        pca = code_pca(y)
        got = fold_whitening(lin, pca)(x).double().numpy()
    assert np.allclose(got, whiten(y, pca), atol=1e-4)


def test_the_encoder_view_changes_colours_reproducibly():
    x = torch.rand(6, 3, 8, 8)
    a = photometric_jitter(x, 0.5, torch.Generator().manual_seed(1))
    b = photometric_jitter(x, 0.5, torch.Generator().manual_seed(1))
    assert torch.equal(a, b) and not torch.equal(a, x) and a.min() >= 0 and a.max() <= 1
    assert torch.equal(photometric_jitter(x, 0.0, torch.Generator().manual_seed(1)), x)


def test_the_sound_grades_the_footage_it_does_not_draw_it():
    torch.manual_seed(0)
    dec = GradedDecoder(2, 4, 32, 32, (32, 16, 8)).eval()
    z = torch.randn(1, 4).expand(3, 4)
    latent = torch.cat([torch.randn(3, 2) * 3, z], dim=1)  # three sounds, one footage code
    with torch.no_grad():
        drawn = torch.sigmoid(dec.frame.logits(z[:1]))
        assert torch.allclose(dec(latent), drawn.expand(3, -1, -1, -1), atol=1e-6)  # it starts as the identity
        torch.nn.init.normal_(dec.light[-1].weight, std=0.5)
        graded = dec(latent)  # (3, 3, 32, 32)
    assert (graded[0] - graded[1]).abs().mean() > 0.01  # the sound changes the light
    # what it cannot do: draw. On a flat picture it leaves a field interpolated from its 4x4 grid,
    # a matrix of rank 4 at most per channel, where footage has edges anywhere (full rank)
    with torch.no_grad():
        torch.nn.init.normal_(dec.light[-1].weight, std=0.05)
        dec.frame.to_rgb.weight.zero_()
        flat = torch.logit(dec(latent).double())  # (3, 3, 32, 32): the grade itself
    assert int(torch.linalg.matrix_rank(flat, atol=1e-4).max()) <= 4
    assert int(torch.linalg.matrix_rank(torch.logit(drawn.double()), atol=1e-4).min()) > 16


def test_an_unknown_sound_part_is_refused():
    with pytest.raises(ValueError, match="sound part 'colour'"):
        ImageAutoencoder(4, 32, 32, audio=2, sound="colour")
