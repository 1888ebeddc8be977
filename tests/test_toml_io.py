"""read_toml turns every way a file can be wrong into the caller's error, naming the file."""
import pytest

from latentvj.daemon.toml_io import dumps_toml, load_toml, read_toml


class MyError(Exception):
    pass


def test_a_missing_file(tmp_path):
    path = tmp_path / "nope.toml"
    with pytest.raises(MyError) as info:
        read_toml(path, MyError, "OSC map")
    msg = str(info.value)
    assert msg.startswith(f"{path}: ") and "cannot read the OSC map" in msg


def test_a_directory(tmp_path):
    with pytest.raises(MyError) as info:
        read_toml(tmp_path, MyError, "config file")
    msg = str(info.value)
    assert msg.startswith(f"{tmp_path}: ") and "cannot read the config file" in msg


def test_invalid_toml_names_the_line(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('a = 1\nb = "two"\nc = = 3\n')
    with pytest.raises(MyError) as info:
        read_toml(str(path), MyError, "preset")
    msg = str(info.value)
    assert msg.startswith(f"{path}: not valid TOML")
    assert "line 3" in msg
    assert info.value.__cause__ is not None


def test_a_binary_file(tmp_path):
    path = tmp_path / "picture.toml"
    path.write_bytes(b"a = 1\n\xff\xfe\x00\x89PNG garbage")
    with pytest.raises(MyError) as info:
        read_toml(path, MyError, "config file")
    msg = str(info.value)
    assert msg.startswith(f"{path}: not valid TOML") and "not UTF-8" in msg
    assert "byte 6" in msg  # where the first bad byte is


def test_dumps_and_load_round_trip(tmp_path):
    doc = {
        "name": 'a "quoted" näme',
        "format": 1,
        "ratio": 0.125,
        "on": True,
        "values": [1.5, -2.0, 3e-8],
        "names": ["x", "y"],
        "encoder": {"kind": "rave", "hop": 2048, "nested": {"deep": [[1, 2], [3, 4]]}},
        "ports": [{"port": 9000}, {"port": 9001}],
    }
    path = tmp_path / "doc.toml"
    path.write_text(dumps_toml(doc), encoding="utf-8")
    assert load_toml(path) == doc
    assert read_toml(path, MyError, "doc") == doc
    assert load_toml(str(path)) == doc
