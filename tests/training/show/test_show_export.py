import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch

from conftest import CPU, DEMO, show_run
from latentvj.daemon.show.bundle import ShowError, load_manifest, sha256_of
from latentvj.daemon.show.pack import show_info
from latentvj.daemon.show.runtime import ShowRuntime
from latentvj.daemon.toml_io import dumps_toml, read_toml
from latentvj.training.show.audio_mapping import AffineMapping
from latentvj.training.checkpoint import load_checkpoint
from latentvj.training.data.dataset import DatasetError
from latentvj.training.export import export_show



def test_an_image_show_bundle_declares_mapping_shots_and_plays(image_show, image_run, track_wav, tmp_path):
    m = load_manifest(image_show)
    assert (m.name, m.decoder_kind, m.latent_dim, m.context, m.conditioning.context) == ("image", "image", 8, 1, 3)
    net = m.network
    learnt = load_checkpoint(image_run)["result"]["rules"]  # the cut rule the run read off its video
    assert (net.file, net.residuals) == ("mapping.ts", "residuals.npy")
    assert (list(net.rules.redraw_on), net.rules.probability, net.rules.min_s, net.rules.max_s) == (
        learnt["redraw_on"], pytest.approx(learnt["probability"]), learnt["min_s"], learnt["max_s"])
    assert set(m.checksums) == {"encoder.ts", "decoder.ts", "mapping.ts", "residuals.npy"}
    info = show_info(str(image_show))
    assert "image latent (PCA-ordered, whitened)" in info and "explained" in info and "shots" in info
    out = tmp_path / "clip.mp4"
    r = subprocess.run([sys.executable, "-m", "latentvj.daemon.cli", "render", str(track_wav), "--show",
                        str(image_show), "-o", str(out), "-q"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert out.stat().st_size > 1000


def test_the_shot_residual_is_added_and_render_follows_the_seed(image_show):
    rt = ShowRuntime.load(image_show, CPU)
    rt.new_clock(0.0, seed=1)
    c = np.zeros((rt.conditioning.context, rt.cond_dim), np.float32)
    a, b = np.empty(rt.latent_dim, np.float32), np.empty(rt.latent_dim, np.float32)
    rt.to_decoder_latent(c, a, np.array([0.0, 0.0], np.float32), 0.0)
    rt.to_decoder_latent(c, b, np.array([5.0, 0.0], np.float32), 0.0)
    assert np.allclose(b - a, rt.latent_map.residuals[5] - rt.latent_map.residuals[0], atol=1e-5)
    first = rt.shots.row.copy()
    rt.new_clock(0.0, seed=1)
    assert np.array_equal(rt.shots.row, first)


def test_a_show_whose_mapping_and_decoder_disagree_is_refused(image_show, tmp_path):
    bad = tmp_path / "bad"
    shutil.copytree(image_show, bad)
    m = load_manifest(bad)
    wrong = AffineMapping(torch.zeros(5, m.conditioning.dim), torch.zeros(5))  # a 5-d latent; the decoder takes 8
    torch.jit.script(wrong).save(str(bad / "mapping.ts"))
    doc = read_toml(bad / "show.toml", ShowError, "show")
    doc["checksums"]["mapping.ts"] = sha256_of(bad / "mapping.ts")
    (bad / "show.toml").write_text(dumps_toml(doc))
    with pytest.raises(ShowError, match="mapping and decoder disagree on the latent size"):
        ShowRuntime.load(bad, CPU)


def test_changed_residuals_fail_their_checksum(image_show, tmp_path):
    bad = tmp_path / "bad"
    shutil.copytree(image_show, bad)
    np.save(bad / "residuals.npy", np.zeros((3, 8), np.float32))
    with pytest.raises(ShowError, match="checksum differs"):
        ShowRuntime.load(bad, CPU)


@pytest.mark.parametrize("mode", ["fitted", "direct"])
def test_train_vae_is_the_film_mode_on_music_features(tmp_path_factory, dataset, mode):
    run = tmp_path_factory.getbasetemp() / "vae_show_run"
    if not (run / "checkpoint.pt").exists():
        show_run(dataset, run, conditioning="music")
    show, diff = export_show(run, tmp_path_factory.mktemp("v") / "show", None, mode=mode)
    m = load_manifest(show)
    assert diff <= 1e-4 and (m.encoder_kind, m.decoder_kind) == ("features", "image")
    rt = ShowRuntime.load(show, CPU)
    rt.new_clock(0.0)
    c = np.zeros((m.conditioning.context, m.conditioning.dim), np.float32)
    a, b = np.empty(8, np.float32), np.empty(8, np.float32)
    shot = np.zeros(2, np.float32)
    rt.to_decoder_latent(c, a, shot, 0.0)
    c[-1, m.conditioning.names.index("music/loudness")] = 1.0
    rt.to_decoder_latent(c, b, shot, 0.0)
    if mode == "direct":  # loudness alone moves dimension 0, by one of its sigmas
        assert np.allclose(b - a, np.eye(8)[0], atol=1e-6)
    else:  # the mapping moves the audio directions only; the footage ones are the shots'
        assert np.allclose((b - a)[3:], 0.0)


def test_a_stopped_run_is_not_exported(tmp_path, dataset):
    run = tmp_path / "run"
    show_run(dataset, run, until=5)
    with pytest.raises(DatasetError, match="before it was finished; resume it"):
        export_show(run, tmp_path / "show", DEMO / "encoder.ts")
    assert not (tmp_path / "show").exists()


def test_the_sheet_draws_an_image_show(image_show, track_wav, tmp_path):
    import cv2

    from latentvj.daemon.show.sheet import make_sheet

    out = make_sheet(str(image_show), tmp_path / "sheet.png", audio=track_wav, seconds=0.5, frames=2, device="cpu")
    assert cv2.imread(str(out)) is not None


def test_an_image_show_plays_its_training_frames_themselves(image_show, image_run):
    """On a bank row at the mean sound the daemon's decoder gives the training frame as filmed
    (less its own flash, zero on this steady test video's median)."""
    from latentvj.training.data.dataset import FrameDataset, device_images

    rt = ShowRuntime.load(image_show, CPU)
    ck = load_checkpoint(image_run)
    kept = ck["result"]["bank_frames"]
    assert rt.decoder.module.frames.shape[0] == len(rt.latent_map.residuals) == len(kept)
    data = FrameDataset(ck["meta"]["data"])
    k = len(kept) // 2
    x = device_images(torch.from_numpy(data.frames(np.array([kept[k]]))), (rt.decoder.width, rt.decoder.height),
                      torch.device("cpu"))
    with torch.no_grad():
        out = rt.decoder.module(torch.from_numpy(rt.latent_map.residuals[k : k + 1]))
        flash = rt.decoder.module.flashes[k]
    assert torch.sigmoid(torch.logit(x.clamp(0.5 / 256, 255.5 / 256)) - torch.nn.functional.interpolate(
        flash[None], size=x.shape[-2:], mode="bilinear")).sub(out).abs().max() < 2 / 255


def test_export_without_the_runs_dataset_says_what_to_do(image_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(image_run, run)
    ck = torch.load(run / "checkpoint.pt", weights_only=False)
    ck["meta"]["data"] = str(tmp_path / "gone")
    torch.save(ck, run / "checkpoint.pt")
    with pytest.raises(DatasetError, match="plays the training frames.*build it again.*footage = \"drawn\""):
        export_show(run, tmp_path / "show", DEMO / "encoder.ts")
    assert not (tmp_path / "show").exists()


def test_a_drawn_footage_show_keeps_no_frames(tmp_path_factory, dataset):
    run = tmp_path_factory.mktemp("runs") / "drawn"
    show_run(dataset, run, footage="drawn")
    show, _ = export_show(run, tmp_path_factory.mktemp("shows") / "drawn", DEMO / "encoder.ts")
    assert not hasattr(ShowRuntime.load(show, CPU).decoder.module, "frames")
