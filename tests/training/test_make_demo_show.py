import shutil
from pathlib import Path


from conftest import CPU
from latentvj.daemon.show.bundle import BUILTIN_DIR, load_manifest, sha256_of
from latentvj.daemon.show.runtime import ShowRuntime
from latentvj.daemon.toml_io import dumps_toml, load_toml
from latentvj.training.make_demo_show import SHIPPED_ENCODER, demo_provenance, install, parser



def exported_show(demo_show, tmp_path):
    """The demo as `latentvj export` leaves it in the builder's --work folder."""
    show = tmp_path / "work" / "show"
    shutil.copytree(demo_show, show)
    doc = load_toml(show / "show.toml")
    doc["provenance"] = {"created": "2026-01-01T00:00:00+00:00", "calibration": "training dataset",
                         "made_by": "latentvj export", "run": str(tmp_path / "work" / "run_show"), "arch": "show",
                         "step": 300, "dataset": str(tmp_path / "work" / "data"),
                         "dataset_encoder": str(tmp_path / "rave.ts"), "mapping": "fitted"}
    (show / "show.toml").write_text(dumps_toml(doc))
    return show, doc


def test_install_records_the_command_not_the_builders_folders(demo_show, tmp_path):
    show, before = exported_show(demo_show, tmp_path)
    loop = tmp_path / "work" / "demo_loop.flac"
    loop.write_bytes(b"loop")
    args = parser().parse_args(["--work", str(tmp_path / "work"), "--encoder", str(tmp_path / "rave.ts"),
                                "--steps", "300", "--device", "cpu", "--sheet", str(tmp_path / "s.png"), "--install"])
    target = install(show, loop, args, builtin=tmp_path / "builtin")
    assert target == tmp_path / "builtin" / "demo" and (tmp_path / "builtin" / "demo_loop.flac").read_bytes() == b"loop"
    after = load_toml(target / "show.toml")
    prov = after.pop("provenance")
    assert after == {k: v for k, v in before.items() if k != "provenance"}  # only the provenance changed
    assert not any(str(tmp_path) in str(v) for v in prov.values())
    assert {k: prov[k] for k in ("created", "made_by", "arch", "step", "mapping")} == {
        "created": "2026-01-01T00:00:00+00:00", "made_by": "latentvj export", "arch": "show", "step": 300,
        "mapping": "fitted"}
    assert "run" not in prov and "dataset" not in prov and prov["dataset_encoder"] == "encoder.ts"
    assert prov["built_by"] == ("python -m latentvj.training.make_demo_show --seconds 120 --size 256 --show-size "
                                f"128x128 --batch 8 --steps 300 --encoder {SHIPPED_ENCODER} --device cpu --install")
    assert (BUILTIN_DIR.parents[2] / SHIPPED_ENCODER) == BUILTIN_DIR / "demo" / "encoder.ts"
    m = load_manifest(target)  # show.toml is not checksummed: the models still verify and play
    assert all(sha256_of(target / f) == m.checksums[f] for f in m.files)
    assert ShowRuntime.load(target, CPU).name == "demo"


def test_a_trained_encoder_is_named_by_its_settings():
    prov = demo_provenance({"run": "/tmp/w/run_show", "step": 5000}, parser().parse_args(["--rave-steps", "50"]))
    assert prov["built_by"].endswith("--batch 8 --rave-steps 50 --install")
    assert prov["encoder"] == "latentvj train rave, 50 steps, on the source's audio" and prov["step"] == 5000


def test_the_shipped_demo_names_no_builder_folder():
    prov = load_toml(BUILTIN_DIR / "demo" / "show.toml")["provenance"]
    assert not any(isinstance(v, str) and Path(v).is_absolute() for v in prov.values())
    # its command, run again, would write the same provenance
    args = parser().parse_args(prov["built_by"].split()[3:])
    assert demo_provenance(prov, args) == prov
