"""The Daemon wired in this process: start-up errors before any thread or port, a run to its
--duration with a summary, and map reloads that are all or nothing."""
import socket
import threading

import pytest

from conftest import free_port
from latentvj.daemon.app import Daemon
from latentvj.daemon.config import ConfigError, load_config
from latentvj.daemon.control.state import ControlError
from latentvj.daemon.record.take_format import RecordError

MAP = """target = "127.0.0.1:{port}"

[[route]]
source = "latent/0"
address = "/layer/1/opacity"
in = [-2.0, 2.0]
out = [0.0, 1.0]
"""


def config(show, osc_in, **flags):
    base = {"show": str(show), "input": "tone", "sink": ["null"], "osc_in": f"127.0.0.1:{osc_in}",
            "osc_out": [], "oscquery": "off", "device": "cpu"}
    return load_config(None, {**base, **flags})


def test_a_run_ends_at_its_duration_and_sums_itself_up(features_show, port):
    daemon = Daemon(config(features_show, port, duration=1.0, fps=20))
    daemon.run(threading.Event())
    summary = daemon.summary()
    assert daemon.engine.stats.published + daemon.engine.stats.dropped == 20
    assert "published" in summary and "sink null" in summary and "osc in" in summary
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", port))  # stopped: the control port is free again


def test_start_up_errors_come_before_the_control_port_is_taken(features_show, port):
    with pytest.raises(ConfigError, match="--channel 3: input 'tone' has channels 0..0"):
        Daemon(config(features_show, port, channel=3))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", port))


def test_a_record_folder_that_cannot_be_made_stops_start_up(features_show, port, tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(RecordError, match="--record .*file/takes: cannot create it"):
        Daemon(config(features_show, port, record=str(tmp_path / "file" / "takes")))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", port))  # nothing started


def test_map_reload_is_all_or_nothing(features_show, port, tmp_path):
    good = tmp_path / "resolume.toml"
    good.write_text(MAP.format(port=free_port()))
    daemon = Daemon(config(features_show, port, osc_map=[str(good)]))
    try:
        assert daemon.reload_maps() == str(good)
        running = daemon.osc_out._maps
        good.write_text(MAP.format(port=7000).replace("latent/0", "latent/99"))
        with pytest.raises(ControlError, match="latent/99.*the previous maps stay"):
            daemon.reload_maps()
        assert daemon.osc_out._maps is running
    finally:
        daemon.server.stop()
        daemon.handlers.stop()
