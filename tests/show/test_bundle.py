import shutil
import tempfile
import zipfile

import pytest

from conftest import CPU, make_decoder
from latentvj.daemon.show import bundle
from latentvj.daemon.show.bundle import ShowError, load_manifest, open_show, resolve_show_path
from latentvj.daemon.show.pack import create_show, show_info
from latentvj.daemon.show.runtime import ShowRuntime



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


def zip_show(src, z, folder="", replace=None):
    """Zip the bundle `src` (inside `folder`), with `replace` {file name: bytes} swapped in."""
    with zipfile.ZipFile(z, "w") as zf:
        for p in src.iterdir():
            name = f"{folder}/{p.name}" if folder else p.name
            if replace and p.name in replace:
                zf.writestr(name, replace[p.name])
            else:
                zf.write(p, name)
    return z


@pytest.fixture()
def tmp_dir(tmp_path, monkeypatch):
    """tempfile's folder, empty, where we can see what is left in it."""
    d = tmp_path / "tmp"
    d.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(d))
    return d


def test_zip_bundle(demo_show, tmp_path, tmp_dir):
    z = zip_show(demo_show, tmp_path / "show.zip", "demo")
    with open_show(str(z)) as (root, source):
        assert load_manifest(root).name == "demo" and source == z and root.parent.parent == tmp_dir
    assert not any(tmp_dir.iterdir())


def test_zipped_shows_leave_no_temporary_folder(features_show, demo_show, tmp_path, tmp_dir):
    z = zip_show(features_show, tmp_path / "features.zip")
    for _ in range(3):  # a daemon switching shows all night
        rt = ShowRuntime.load(z, CPU)
        assert not any(tmp_dir.iterdir())
        assert f"({z})" in rt.describe()
        rt.warmup()  # everything it plays is in memory
    assert f"show        features  ({z})" in show_info(str(z)) and "decoder.ts  " in show_info(str(z))
    nested = zip_show(demo_show, tmp_path / "demo.zip", "demo")
    assert ShowRuntime.load(nested, CPU).name == "demo"
    assert not any(tmp_dir.iterdir())


def test_bad_zipped_shows_leave_no_temporary_folder(features_show, tmp_path, tmp_dir):
    corrupt = zip_show(features_show, tmp_path / "corrupt.zip", "features", {"decoder.ts": b"garbage"})
    with pytest.raises(ShowError) as err:
        ShowRuntime.load(corrupt, CPU)
    # named inside the zip, not in the folder that is gone
    assert str(err.value).startswith(f"{corrupt}/features/decoder.ts: checksum differs from {corrupt}/features/")
    empty = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty, "w") as zf:
        zf.writestr("readme.txt", "no show here")
    with pytest.raises(ShowError, match="the zip holds no show.toml"):
        ShowRuntime.load(empty, CPU)
    with pytest.raises(ShowError, match="the zip holds no show.toml"):
        show_info(str(empty))
    with pytest.raises(ShowError, match="the zip holds no show.toml"):
        resolve_show_path(empty)
    assert not any(tmp_dir.iterdir())


def test_resolve_show_path_removes_its_unpacked_zip_at_exit(features_show, tmp_path, tmp_dir, monkeypatch):
    at_exit = []
    monkeypatch.setattr(bundle.atexit, "register", lambda f, *a, **kw: at_exit.append((f, a, kw)))
    root = resolve_show_path(zip_show(features_show, tmp_path / "features.zip"))
    assert load_manifest(root).name == "features" and root.parent == tmp_dir  # a one-shot tool reads it
    for f, a, kw in at_exit:
        f(*a, **kw)
    assert not any(tmp_dir.iterdir())


def test_features_show_maps_features_into_the_decoder_latent(features_show):
    rt = ShowRuntime.load(features_show, CPU)
    assert rt.manifest.encoder_kind == "features" and rt.encoder_dim == 6 and rt.latent_dim == 8
    assert rt.decoder.width == 32
