from latentvj.daemon.control.state import Control
from latentvj.daemon.web.live_values import LiveValues, list_presets, list_shows


def test_controls_and_folders_as_osc_arguments(tmp_path):
    (tmp_path / "presets").mkdir()
    (tmp_path / "presets" / "calm.toml").write_text("")
    (tmp_path / "shows" / "mine").mkdir(parents=True)
    (tmp_path / "shows" / "mine" / "show.toml").write_text("")
    (tmp_path / "shows" / "not-a-show").mkdir()
    (tmp_path / "shows" / "packed.zip").write_bytes(b"")
    control = Control(2, tmp_path / "presets")
    control.set_dim_bias(1, 0.5)
    v = LiveValues(control, show_dir=tmp_path / "shows").collect()
    assert v["/latentvj/bias/1"] == (0.5,) and v["/latentvj/scale"] == (1.0,) and v["/latentvj/permute"] == (0, 1)
    assert v["/latentvj/info/presets"] == ("calm",)
    shows = v["/latentvj/info/shows"]
    assert "demo" in shows and shows[-2:] == (str(tmp_path / "shows" / "mine"), str(tmp_path / "shows" / "packed.zip"))
    assert list_presets(None) == [] and list_shows(tmp_path / "nowhere") == list_shows(None)
