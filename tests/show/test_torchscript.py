"""Each TorchScript file is parsed once: later loads are independent copies, and a file whose
content changed is parsed again."""
import shutil

import pytest
import torch

from conftest import DEMO
from latentvj.daemon.show import torchscript
from latentvj.daemon.show.bundle import ShowError
from latentvj.daemon.show.torchscript import load_torchscript

CPU = torch.device("cpu")


def test_a_file_is_parsed_once_and_every_load_is_its_own_copy(tmp_path, monkeypatch):
    path = tmp_path / "encoder.ts"
    shutil.copy(DEMO / "encoder.ts", path)
    parsed = []
    real = torch.jit.load
    monkeypatch.setattr(torch.jit, "load", lambda *a, **k: parsed.append(a[0]) or real(*a, **k))
    a = load_torchscript(path, CPU)
    b = load_torchscript(tmp_path / "encoder.ts", CPU)
    shutil.copy(path, tmp_path / "same.ts")  # another name, the same content (a copied bundle)
    c = load_torchscript(tmp_path / "same.ts", CPU)
    assert len(parsed) <= 1  # (0 when another test parsed the demo's encoder before)
    pa, pb, pc = (next(m.parameters()) for m in (a, b, c))
    assert pa.is_leaf and not pa.requires_grad and torch.equal(pa, pb) and torch.equal(pa, pc)
    with torch.no_grad():
        pa.add_(1.0)  # one show's module changed in place: the others are not
    assert not torch.equal(pa, pb) and torch.equal(pb, pc)
    assert len({id(pa), id(pb), id(pc)}) == 3


def test_a_changed_file_is_parsed_again_and_a_bad_one_named(tmp_path, monkeypatch):
    path = tmp_path / "decoder.ts"
    shutil.copy(DEMO / "decoder.ts", path)
    first = load_torchscript(path, CPU)
    shutil.copy(DEMO / "mapping.ts", path)  # the same name, another model
    second = load_torchscript(path, CPU)
    assert sum(p.numel() for p in first.parameters()) != sum(p.numel() for p in second.parameters())
    path.write_bytes(b"not a model")
    with pytest.raises(ShowError, match="decoder.ts: not a loadable TorchScript file"):
        load_torchscript(path, CPU)
    assert len(torchscript._parsed) <= torchscript.KEEP
