import numpy as np
import torch

from latentvj.training.show.footage_frames import FootageFrames, flashes, nearest_spacing
from latentvj.training.show.image_model import GradedDecoder

AUDIO, FOOTAGE, SIZE, N = 3, 5, 16, 6


def _decoder(seed: int = 0) -> GradedDecoder:
    torch.manual_seed(seed)
    dec = GradedDecoder(AUDIO, FOOTAGE, SIZE, SIZE, (32, 16, 8)).eval()
    torch.nn.init.normal_(dec.light[-1].weight, std=0.3)  # a grade that does something
    torch.nn.init.normal_(dec.light[-1].bias, std=0.1)
    return dec


def _kept(dec: GradedDecoder, flash: torch.Tensor | None = None, seed: int = 1
          ) -> tuple[FootageFrames, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    frames = torch.randint(0, 256, (N, 3, SIZE, SIZE), generator=g, dtype=torch.uint8)
    codes = torch.randn(N, FOOTAGE, generator=g) * 3.0
    flash = torch.zeros(N, 3, dec.cells, dec.cells) if flash is None else flash
    return FootageFrames(dec, codes, frames, flash, nearest_spacing(codes.numpy())).eval(), frames, codes


def _at(a: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
    return torch.cat([a.expand(len(codes), AUDIO), codes], 1)


def test_at_the_mean_sound_a_kept_code_is_its_frame_as_filmed():
    dec = _decoder()
    kept, frames, codes = _kept(dec)
    with torch.no_grad():
        out = kept(_at(torch.zeros(1, AUDIO), codes))  # (N, 3, H, W)
    assert (out * 255.0 - frames.float()).abs().max() < 1.0


def test_another_sound_relights_the_frame_as_it_would_grade_a_drawing():
    dec = _decoder()
    with torch.no_grad():  # the mean sound's grade the identity: then relative = absolute
        dec.light[0].bias.zero_()
        dec.light[-1].bias.zero_()
    kept, frames, codes = _kept(dec)
    a = torch.randn(N, AUDIO)
    x = (frames.float() + 0.5) / 256.0
    with torch.no_grad():
        out = kept(torch.cat([a, codes], 1))
        want = dec.graded(torch.logit(x), a)
    assert torch.allclose(out, want, atol=1e-5)
    assert (out - x).abs().mean() > 0.02  # the sound did change the light


def test_a_frames_own_flash_is_taken_out():
    dec = _decoder()
    flash = torch.zeros(N, 3, dec.cells, dec.cells)
    flash[2] = 1.5  # frame 2 was filmed 1.5 logits brighter than its shot
    kept, frames, codes = _kept(dec, flash)
    with torch.no_grad():
        out = kept(_at(torch.zeros(1, AUDIO), codes))
    x = (frames.float() + 0.5) / 256.0
    assert torch.allclose(out[2], torch.sigmoid(torch.logit(x[2]) - 1.5), atol=1e-4)
    assert (out[3] * 255.0 - frames[3].float()).abs().max() < 1.0


def test_flashes_stand_out_of_the_median_of_their_shot():
    cells = torch.full((10, 3, 2, 2), 0.3)
    cells[4] = 0.8  # a flash in the first run
    cells[7:] = 0.6  # the second run is brighter all along: no flash
    out = flashes(cells, np.array([[0, 7], [7, 10]]), half=3)
    assert torch.allclose(out[4], torch.logit(torch.tensor(0.8)) - torch.logit(torch.tensor(0.3)))
    assert out[[0, 1, 2, 3, 5, 6, 7, 8, 9]].abs().max() < 1e-6


def test_on_a_kept_code_the_drawing_is_not_even_computed():
    dec = _decoder()
    kept, frames, codes = _kept(dec)
    a = torch.randn(1, AUDIO)
    with torch.no_grad():
        dec.frame.to_rgb.weight.fill_(float("nan"))
        assert torch.isfinite(kept(_at(a, codes))).all()
        assert torch.isnan(kept(_at(a, codes + 10.0))).all()


def test_far_from_every_kept_code_it_is_the_drawing_and_in_between_a_blend():
    dec = _decoder()
    kept, frames, codes = _kept(dec)
    a = torch.randn(1, AUDIO)
    far = _at(a, codes + 100.0)
    step = torch.zeros(FOOTAGE)
    step[0] = kept.radius / 2
    with torch.no_grad():
        assert torch.equal(kept(far), dec(far))
        half = kept(_at(a, codes + step))
        own = kept(_at(a, codes))
        drawn = dec(_at(a, codes + step))
    assert (half - own).abs().mean() > 1e-3 and (half - drawn).abs().mean() > 1e-3  # neither end


def test_it_scripts_and_the_script_gives_the_same_pictures():
    dec = _decoder()
    kept, _, codes = _kept(dec)
    scripted = torch.jit.script(kept)
    z = _at(torch.randn(1, AUDIO), codes)
    z[0, AUDIO] += kept.radius / 3  # one frame blended with the drawing
    with torch.no_grad():
        assert torch.allclose(scripted(z), kept(z), atol=1e-6)


def test_nearest_spacing_is_the_median_distance_to_the_nearest_other_code():
    codes = np.array([[0.0], [1.0], [3.0], [7.0], [15.0]])  # nearest others: 1, 1, 2, 4, 8
    assert nearest_spacing(codes) == 2.0


def test_without_sound_directions_it_plays_the_frames_as_filmed():
    torch.manual_seed(0)
    dec = GradedDecoder(0, FOOTAGE, SIZE, SIZE, (32, 16, 8)).eval()
    frames = torch.randint(0, 256, (N, 3, SIZE, SIZE), dtype=torch.uint8)
    flash = torch.zeros(N, 3, dec.cells, dec.cells)
    kept = FootageFrames(dec, torch.randn(N, FOOTAGE) * 3.0, frames, flash, 1.0).eval()
    with torch.no_grad():
        out = torch.jit.script(kept)(kept.codes)
    assert (out * 255.0 - kept.frames.float()).abs().max() < 1.0
