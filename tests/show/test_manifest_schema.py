"""Every broken bundle the stress suite makes is refused with one line naming the file and what
was expected, at load and at start-up (exit 2), never with a traceback."""
import pytest
import torch

from daemon_process import run
from latentvj.daemon.show.bundle import ShowError
from latentvj.daemon.show.manifest_schema import Field, SchemaError, check_table
from latentvj.daemon.show.runtime import RuntimeOptions, ShowRuntime
from latentvj.stress.bad_bundles import make_broken_bundles


@pytest.fixture(scope="module")
def broken(demo_show, tmp_path_factory):
    return make_broken_bundles(demo_show, tmp_path_factory.mktemp("bundles") / "broken")


def test_there_are_more_than_twenty_defects(broken):
    assert len(broken) >= 20


def test_every_broken_bundle_is_refused_with_one_line(broken):
    opts = RuntimeOptions(torch.device("cpu"), None, False, True)
    for name, path in broken:
        with pytest.raises(ShowError) as info:
            ShowRuntime.load(str(path), opts)
        message = str(info.value)
        assert "\n" not in message and len(message) < 600, name
        assert str(path) in message or path.name in message, name


def test_a_string_where_a_number_belongs_names_the_table_the_key_and_the_type(broken):
    path = dict(broken)["decoder fps is a string"]
    with pytest.raises(ShowError, match=r"show\.toml: \[decoder\] 'fps': expected a number from 1 to 1000, got 'thirty'"):
        ShowRuntime.load(str(path), RuntimeOptions(torch.device("cpu"), None, False, True))


@pytest.mark.parametrize("value", ["../x.ts", "/abs/x.ts", "a\\b.ts", "", "x" * 300, 7])
def test_file_names_stay_inside_the_bundle(value):
    with pytest.raises(SchemaError, match="'file'"):
        check_table({"file": value}, {"file": Field("file")}, "")


def test_start_up_with_broken_bundles_exits_2_with_one_line(broken):
    for name in ("name of 5000 characters", "checksums is a string", "decoder file corrupt, checksum updated"):
        r = run("run", "--show", dict(broken)[name], "--duration", "1", "--sink", "null", "--input", "silence",
                "--oscquery", "off")
        assert r.returncode == 2, (name, r.stderr[-2000:])
        errors = [line for line in r.stderr.splitlines() if "error" in line.lower()]
        assert len(errors) == 1 and "Traceback" not in r.stderr, (name, r.stderr[-2000:])
