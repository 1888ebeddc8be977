import shutil
import zipfile

import pytest
import torch

from conftest import make_decoder
from latentvj.daemon.show.bundle import ShowError, load_manifest, resolve_show_path
from latentvj.daemon.show.pack import create_show, show_info
from latentvj.daemon.show.runtime import RuntimeOptions, ShowRuntime

CPU = RuntimeOptions(torch.device("cpu"))


def copy_show(src, tmp_path):
    dst = tmp_path / "show"
    shutil.copytree(src, dst)
    return dst


def test_demo_loads_and_describes_itself(demo_show):
    rt = ShowRuntime.load("demo", CPU)
    assert (rt.encoder_dim, rt.latent_dim, rt.hop, rt.sample_rate) == (8, 32, 2048, 44100)  # an image show
    assert [s.kind for s in rt.conditioning.streams] == ["rave", "music"]
    assert "demo" in show_info("demo") and "image decoder.ts" in show_info("demo")


def test_missing_show_names_the_builtins():
    with pytest.raises(ShowError, match="no such show bundle.*demo"):
        resolve_show_path("/nope/show")


def test_corrupt_manifest(demo_show, tmp_path):
    d = copy_show(demo_show, tmp_path)
    (d / "show.toml").write_text("format = 1\nname = [")
    with pytest.raises(ShowError, match="show.toml: not valid TOML"):
        load_manifest(d)


def test_missing_key(demo_show, tmp_path):
    d = copy_show(demo_show, tmp_path)
    text = (d / "show.toml").read_text().replace("hop = 2048\n", "")
    (d / "show.toml").write_text(text)
    with pytest.raises(ShowError, match=r"\[encoder\] 'hop' is missing"):
        load_manifest(d)


def test_missing_and_changed_model_files(demo_show, tmp_path):
    d = copy_show(demo_show, tmp_path)
    (d / "decoder.ts").unlink()
    with pytest.raises(ShowError, match="decoder.ts: missing"):
        ShowRuntime.load(d, CPU)
    d2 = tmp_path / "show2"
    shutil.copytree(demo_show, d2)
    with open(d2 / "encoder.ts", "r+b") as f:
        f.seek(100)
        f.write(b"garbage")
    with pytest.raises(ShowError, match="encoder.ts: checksum differs"):
        ShowRuntime.load(d2, CPU)


def test_not_torchscript(demo_show, tmp_path):
    d = copy_show(demo_show, tmp_path)
    (d / "decoder.ts").write_bytes(b"not a model")
    text = (d / "show.toml").read_text()
    (d / "show.toml").write_text(text[: text.index("[checksums]")])  # no checksums: reach the loader
    with pytest.raises(ShowError, match="decoder.ts: not a loadable TorchScript"):
        ShowRuntime.load(d, CPU)


def test_decoder_latent_dim_mismatch_names_the_file(demo_show, tmp_path):
    dec = make_decoder(tmp_path / "dec16.ts", 16, 32)
    with pytest.raises(ShowError, match="dec16.ts: forward\\(z\\) fails on z of shape \\(1, 8\\)"):
        create_show(tmp_path / "bad", dec, encoder=demo_show / "encoder.ts")
    assert not (tmp_path / "bad").exists()


def test_wrong_output_shape(demo_show, tmp_path):
    d = copy_show(demo_show, tmp_path)
    text = (d / "show.toml").read_text().replace("width = 128", "width = 64")
    (d / "show.toml").write_text(text)
    with pytest.raises(ShowError, match=r"decoder.ts: forward\(z\) returns \(1, 3, 128, 128\), show.toml says \(1, 3, 128, 64\)"):
        ShowRuntime.load(d, CPU)


def test_encoder_that_is_not_rave(demo_show, tmp_path, small_decoder):
    with pytest.raises(ShowError, match="not a RAVE export"):
        create_show(tmp_path / "x", small_decoder, encoder=small_decoder)


def test_zip_bundle(demo_show, tmp_path):
    z = tmp_path / "show.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for p in demo_show.iterdir():
            zf.write(p, f"demo/{p.name}")
    assert load_manifest(resolve_show_path(str(z))).name == "demo"


def test_features_show_maps_features_into_the_decoder_latent(features_show):
    rt = ShowRuntime.load(features_show, CPU)
    assert rt.manifest.encoder_kind == "features" and rt.encoder_dim == 6 and rt.latent_dim == 8
    assert rt.decoder.width == 32
