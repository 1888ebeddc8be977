import subprocess
import sys

import pytest

from conftest import DEMO, train_run
from latentvj.daemon.show.bundle import load_manifest
from latentvj.training.data.dataset import DatasetError
from latentvj.training.export import export_show


def test_export_then_play_through_the_daemons_render(tmp_path, trained_run, dataset, track_wav):
    show, diff = export_show(trained_run, tmp_path / "show", DEMO / "encoder.ts", name="tiny")
    assert diff <= 1e-4
    m = load_manifest(show)
    assert (m.context, m.width, m.latent_dim, m.provenance["calibration"]) == (2, 32, 8 + 18, "training dataset")
    assert [(s.kind, s.dim, s.window) for s in m.conditioning.streams] == [("rave", 8, 2), ("music", 18, 1)]
    out = tmp_path / "clip.mp4"
    r = subprocess.run([sys.executable, "-m", "latentvj.daemon.cli", "render", str(track_wav), "--show", str(show),
                        "-o", str(out), "-q"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    import av

    with av.open(str(out)) as c:
        assert sum(1 for _ in c.decode(video=0)) == 180  # 6 s at 30 fps
    e = subprocess.run([sys.executable, "-m", "latentvj.daemon.cli", "eval", str(show), str(dataset)],
                       capture_output=True, text=True)
    assert e.returncode == 0 and "PSNR" in e.stdout, e.stderr


def test_export_refuses_another_encoder(tmp_path, trained_run, small_decoder):
    with pytest.raises(DatasetError, match="not the encoder this run's dataset was built with"):
        export_show(trained_run, tmp_path / "show", small_decoder)
    with pytest.raises(DatasetError, match="reads RAVE latents: pass --encoder"):
        export_show(trained_run, tmp_path / "show", None)
    assert not (tmp_path / "show").exists()


def test_a_music_only_run_exports_a_show_without_rave(tmp_path, dataset, track_wav):
    run = tmp_path / "run"
    train_run(dataset, run, conditioning="music", music_features="loudness,onset,onset_kick", music_window=3,
              steps=4, eval_every=4, ckpt_every=4)
    show, diff = export_show(run, tmp_path / "show", None)  # no RAVE stream: no encoder needed
    assert diff <= 1e-4 and not (show / "encoder.ts").exists()
    m = load_manifest(show)
    (stream,) = m.conditioning.streams
    assert (stream.names, stream.window, m.context, m.latent_dim) == (("loudness", "onset", "onset_kick"), 3, 3, 3)
    out = tmp_path / "clip.mp4"
    r = subprocess.run([sys.executable, "-m", "latentvj.daemon.cli", "render", str(track_wav), "--show", str(show),
                        "-o", str(out), "-q"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
