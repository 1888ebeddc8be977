import torch

from latentvj.training.show.audio_mapping import AffineMapping, AudioMapping, window_mask


def test_a_stream_with_a_short_window_sees_only_its_newest_rows():
    layout = [(0, 2, 4), (2, 3, 1)]  # columns 0-1 over 4 rows, columns 2-4 over the newest row only
    mask = window_mask(5, 4, layout)
    assert mask[:, :2].all() and mask[-1, 2:].all() and not mask[:-1, 2:].any()
    m = AudioMapping(5, 4, 8, layout).eval()
    c = torch.randn(3, 4, 5)
    moved = c.clone()
    moved[:, :-1, 2:] += 10.0  # rows the short stream does not see
    assert torch.equal(m(c), m(moved))
    moved[:, -1, 2:] += 1.0
    assert not torch.equal(m(c), m(moved))


def test_the_mapping_is_causal_within_its_window_and_scripts():
    m = AudioMapping(4, 6, 8, [(0, 4, 6)]).eval()
    s = torch.jit.script(m)
    c = torch.randn(2, 6, 4)
    assert s(c).shape == (2, 8) and torch.allclose(s(c), m(c))
    older = c.clone()
    older[:, 0] += 5.0  # the oldest row still counts: the receptive field covers the window
    assert not torch.allclose(m(c), m(older))


def test_the_affine_mapping_reads_the_newest_row():
    w = torch.zeros(3, 2)
    w[0, 1] = 2.0
    m = torch.jit.script(AffineMapping(w, torch.ones(3)))
    c = torch.zeros(1, 4, 2)
    c[0, -1, 1] = 1.5
    c[0, 0, 1] = 9.0
    assert m(c).tolist() == [[4.0, 1.0, 1.0]]
