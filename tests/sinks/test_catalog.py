"""The sink table: specs, what is usable where, the default sink, `latentvj sinks`."""
import subprocess
import sys

import pytest

from latentvj.daemon.sinks import SinkError, default_sinks, make_sink, report


@pytest.mark.parametrize("spec, message", [
    ("nope:x", "unknown sink"),
    ("ndi:", "visible text"),
    ("ndi:a\tb", "visible text"),
    ("ndi:" + "x" * 300, "at most 255"),
    ("v4l2:video0", "/dev/videoN"),
    ("null:x", "takes no argument"),
    ("file:", "expected file:PATH.mp4"),
])
def test_bad_specs_say_what_is_wrong(spec, message):
    with pytest.raises(SinkError, match=message):
        make_sink(spec)


def test_spout_names_must_be_short_ascii(fake_spout):
    with pytest.raises(SinkError, match="ASCII"):
        make_sink("spout:café")


@pytest.mark.parametrize("platform, spec, message", [
    ("linux", "syphon:x", "macOS only"),
    ("linux", "spout:x", "Windows only"),
    ("darwin", "spout:x", "Windows only"),
    ("win32", "v4l2:/dev/video0", "Linux only"),
])
def test_the_wrong_platform_is_named(on_platform, platform, spec, message):
    on_platform(platform)
    with pytest.raises(SinkError, match=message):
        make_sink(spec)


def test_a_missing_library_names_what_to_install(on_platform, monkeypatch):
    on_platform("darwin")
    monkeypatch.setitem(sys.modules, "syphon", None)  # what Python does for a package that is not there
    with pytest.raises(SinkError, match=r"syphon-python is not installed: comes with `pip install latentvj`"):
        make_sink("syphon:x")
    monkeypatch.setitem(sys.modules, "cyndilib", None)
    with pytest.raises(SinkError, match=r"pip install 'latentvj\[ndi\]'"):
        make_sink("ndi:x")


def test_defaults_are_the_platforms_texture_sharing(fake_syphon, on_platform, monkeypatch):
    assert default_sinks() == (["syphon:latentvj"], "")
    on_platform("linux")
    assert default_sinks() == (["ndi:latentvj"], "")
    monkeypatch.setitem(sys.modules, "cyndilib", None)
    specs, why = default_sinks()
    assert specs == ["null"] and "latentvj[ndi]" in why and "latentvj sinks" in why


def test_default_on_windows(fake_spout):
    assert default_sinks() == (["spout:latentvj"], "")


def test_report_lists_every_sink_with_its_state(fake_syphon):
    text = report()
    for usage in ("syphon:NAME", "spout:NAME", "ndi:NAME", "v4l2:/dev/videoN", "file:PATH.mp4", "png:DIR", "null"):
        assert usage in text
    table = text.split("\n\n")[0]
    state = {line.split()[0]: line.split()[1] for line in table.splitlines() if not line.startswith(" ")}
    assert state == {"syphon:NAME": "yes", "spout:NAME": "no", "ndi:NAME": state["ndi:NAME"],
                     "v4l2:/dev/videoN": "no", "file:PATH.mp4": "yes", "png:DIR": "yes", "null": "yes"}
    assert "Windows only (this is macOS)" in text and "Linux only (this is macOS)" in text
    assert "without --sink: syphon:latentvj" in text


def test_sinks_verb_runs():
    r = subprocess.run([sys.executable, "-m", "latentvj.daemon.cli", "sinks"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "ndi:NAME" in r.stdout and "without --sink" in r.stdout


def test_run_refuses_an_unusable_sink_before_starting():
    r = subprocess.run([sys.executable, "-m", "latentvj.daemon.cli", "run", "--sink", "syphon:x", "--duration", "1"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "syphon is not usable here: macOS only" in r.stderr


@pytest.mark.parametrize("spec", ["nope", "file:", "file:x.avi", "png:", "null:x"])
def test_bad_specs(spec):
    with pytest.raises(SinkError, match="--sink"):
        make_sink(spec)
