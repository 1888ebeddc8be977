"""`show create` / `show info`: packing a bundle from model files, its stats, and what is refused."""
import numpy as np
import pytest
import torch

from conftest import CPU, make_decoder
from latentvj.daemon.audio.features import FeaturesEncoder, features_of_signal
from latentvj.daemon.audio.files import load_audio
from latentvj.daemon.show.bundle import ShowError, load_manifest, sha256_of
from latentvj.daemon.show.pack import (
    create_show,
    encode_stats,
    probe_decoder,
    show_info,
)
from latentvj.daemon.show.runtime import ShowRuntime
from latentvj.training.decoder.models import LatentDecoder
from latentvj.training.synth.synthetic import write_audio



class FourChannels(torch.nn.Module):
    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.zeros(z.shape[0], 4, 8, 8)


class NoChannelAxis(torch.nn.Module):
    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.zeros(z.shape[0], 8, 8)


def scripted(module, path):
    torch.jit.script(module).save(str(path))
    return path


def test_a_features_show_has_the_stats_of_its_calibration_audio(features_show, track_wav):
    rt = ShowRuntime.load(features_show, CPU)
    assert rt.manifest.encoder_kind == "features" and rt.manifest.decoder_kind == "vae"
    audio, _ = load_audio(track_wav, 44100)
    mean, std, hops = encode_stats(FeaturesEncoder(44100, 1024), audio.mean(axis=1))
    assert hops == len(audio) // 1024
    m = load_manifest(features_show)
    (stream,) = m.conditioning.streams
    assert stream.kind == "features" and stream.window == 1
    np.testing.assert_allclose(stream.mean, mean, rtol=1e-6)
    np.testing.assert_allclose(stream.std, std, rtol=1e-6)
    assert m.provenance["calibration"] == str(track_wav)
    assert m.provenance["calibration_hops"] == hops
    assert (m.sample_rate, m.hop, m.encoder_dim, m.latent_dim, m.width, m.height) == (44100, 1024, 6, 8, 32, 32)


def test_encode_stats_starts_from_a_reset_encoder(track_wav):
    audio, _ = load_audio(track_wav, 44100)
    mono = audio.mean(axis=1)[: 40 * 1024]
    enc = FeaturesEncoder(44100, 1024)
    first = encode_stats(enc, mono)
    enc.encode_hop(np.ones(1024, np.float32))  # leave some state behind
    second = encode_stats(enc, mono)
    for a, b in zip(first[:2], second[:2]):
        np.testing.assert_array_equal(a, b)
    whole = features_of_signal(mono, 44100, 1024)  # the same features, from silence, in one go
    np.testing.assert_allclose(first[0], whole.mean(axis=0), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(first[1], whole.std(axis=0), rtol=1e-4, atol=1e-5)
    assert first[2] == 40


def test_creating_into_a_non_empty_folder_is_refused_and_touches_nothing(tmp_path, small_decoder):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("my notes")
    (out / "sub").mkdir()
    (out / "sub" / "a.bin").write_bytes(b"\x00\x01")
    with pytest.raises(ShowError, match="exists and is not an empty folder"):
        create_show(out, small_decoder, encoder=None, mapping={"weight": np.ones((8, 6)), "bias": np.zeros(8)})
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == ["notes.txt", "sub", "sub/a.bin"]
    assert (out / "notes.txt").read_text() == "my notes"
    assert (out / "sub" / "a.bin").read_bytes() == b"\x00\x01"


@pytest.mark.parametrize("module", [FourChannels(), NoChannelAxis()], ids=["4-channels", "3-d"])
def test_a_decoder_of_the_wrong_output_shape_is_refused(tmp_path, track_wav, module):
    bad = scripted(module, tmp_path / "bad.ts")
    out = tmp_path / "show"
    with pytest.raises(ShowError, match=r"bad\.ts: forward\(z\) should return \(batch, 3, H, W\)"):
        create_show(out, bad, encoder=None, calibrate=track_wav, mapping={"weight": np.ones((8, 6)), "bias": np.zeros(8)})
    assert not out.exists()


def test_a_bundle_that_does_not_load_is_removed(tmp_path, small_decoder, track_wav):
    """The check after writing (load what was written) fails: no half-written bundle is left."""
    weight = np.ones((8, 6))
    weight[2, 3] = np.nan
    out = tmp_path / "show"
    with pytest.raises(ShowError, match=r"\[mapping\]: 'weight'"):
        create_show(out, small_decoder, encoder=None, calibrate=track_wav, mapping={"weight": weight, "bias": np.zeros(8)})
    assert not out.exists()


def test_a_failed_create_leaves_the_users_own_empty_folder_and_refuses_a_file(tmp_path, small_decoder, track_wav):
    weight = np.ones((8, 6))
    weight[0, 0] = np.nan  # fails the load-back check, after the files were written
    out = tmp_path / "made-by-me"
    out.mkdir()
    with pytest.raises(ShowError):
        create_show(out, small_decoder, encoder=None, calibrate=track_wav, mapping={"weight": weight, "bias": np.zeros(8)})
    assert out.is_dir() and not any(out.iterdir())
    a_file = tmp_path / "show.zip"
    a_file.write_bytes(b"PK")
    with pytest.raises(ShowError, match="is not an empty folder"):
        create_show(a_file, small_decoder, encoder=None, calibrate=track_wav, mapping={"weight": np.ones((8, 6)),
                                                                                        "bias": np.zeros(8)})
    assert a_file.read_bytes() == b"PK"


def test_too_short_calibration_audio_is_refused(tmp_path, small_decoder):
    short = tmp_path / "short.wav"
    write_audio(short, np.zeros(1500), 44100)  # less than 2 hops of 1024
    out = tmp_path / "show"
    with pytest.raises(ShowError, match="too short"):
        create_show(out, small_decoder, encoder=None, calibrate=short,
                    mapping={"weight": np.ones((8, 6)), "bias": np.zeros(8)})
    assert not out.exists()
    with pytest.raises(ShowError, match="too short: 1500 samples"):
        encode_stats(FeaturesEncoder(44100, 1024), np.zeros(1500, np.float32))


def test_show_info_lists_files_with_checksums_and_provenance(features_show, track_wav, demo_show):
    info = show_info(str(features_show))
    lines = info.splitlines()
    assert lines[0].startswith("show        features")
    digest = sha256_of(features_show / "decoder.ts")
    (dec_line,) = [ln for ln in lines if ln.startswith("file        decoder.ts")]
    assert f"sha256 {digest[:16]}" in dec_line
    assert "encoder.ts" not in info  # a features show has no encoder file
    assert f"provenance  calibration = {track_wav}" in lines
    assert any(ln.startswith("provenance  calibration_hops = ") for ln in lines)
    assert any(ln.startswith("provenance  created = ") for ln in lines)
    assert "mapping     affine 6 conditioning dims -> 8-d latent" in lines
    assert "stream      features: 6 dims; window 1 frame" in lines

    demo = show_info("demo").splitlines()
    for name in ("encoder.ts", "decoder.ts"):
        (line,) = [ln for ln in demo if ln.startswith(f"file        {name}")]
        assert f"sha256 {sha256_of(demo_show / name)[:16]}" in line
    assert "provenance  calibration = training dataset" in demo


def test_probe_decoder_gives_width_then_height(tmp_path, small_decoder):
    assert probe_decoder(small_decoder, 8, 1) == (32, 32)
    torch.manual_seed(0)
    wide = tmp_path / "wide.ts"
    torch.jit.script(LatentDecoder(5, 2, 64, 32).eval()).save(str(wide))
    assert probe_decoder(wide, 5, 2) == (64, 32)
    ctx3 = make_decoder(tmp_path / "ctx3.ts", 8, 16, context=3)
    assert probe_decoder(ctx3, 8, 3) == (16, 16)
    with pytest.raises(ShowError, match=r"forward\(z\) fails on z of shape \(1, 7\)"):
        probe_decoder(small_decoder, 7, 1)


def test_a_created_context_show_records_its_window(tmp_path, track_wav):
    dec = make_decoder(tmp_path / "dec.ts", 6, 16, context=2)
    out = create_show(tmp_path / "show", dec, encoder=None, calibrate=track_wav, context=2, name="ctx")
    m = load_manifest(out)
    assert (m.name, m.context, m.decoder_kind, m.latent_dim, m.width, m.height) == ("ctx", 2, "latent", 6, 16, 16)
    assert m.checksums["decoder.ts"] == sha256_of(dec)
