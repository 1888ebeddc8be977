import pytest

from latentvj.daemon.config import ConfigError, load_config


def test_flags_win_over_the_file_which_wins_over_defaults(tmp_path):
    rig = tmp_path / "rig.toml"
    rig.write_text('fps = 60\nsink = "null"\nosc-out = ["127.0.0.1:7000"]\nlatency_margin_ms = 30\n')
    cfg = load_config(rig, {"fps": 25.0})
    assert cfg.fps == 25.0 and cfg.sink == ["null"] and cfg.osc_out == ["127.0.0.1:7000"]
    assert cfg.latency_margin_ms == 30 and cfg.show == "demo"


def test_unknown_key_suggests_the_nearest(tmp_path):
    rig = tmp_path / "rig.toml"
    rig.write_text("fsp = 30\n")
    with pytest.raises(ConfigError, match="unknown setting 'fsp' \\(did you mean 'fps'\\?\\)"):
        load_config(rig, {})


def test_bad_values(tmp_path):
    with pytest.raises(ConfigError, match="fps"):
        load_config(None, {"fps": 0.0})
    with pytest.raises(ConfigError, match="WxH"):
        load_config(None, {"size": "big"})
    (tmp_path / "broken.toml").write_text("fps = ")
    with pytest.raises(ConfigError, match="broken.toml: not valid TOML"):
        load_config(tmp_path / "broken.toml", {})


def test_wrong_types_in_the_file(tmp_path):
    rig = tmp_path / "rig.toml"
    rig.write_text('fps = "thirty"\n')
    with pytest.raises(ConfigError, match="'fps' should be float, got 'thirty'"):
        load_config(rig, {})
