import threading

import numpy as np
from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_server import ThreadingOSCUDPServer

from conftest import eventually
from latentvj.daemon.control.osc_out import OscOut


def test_streams_reach_a_python_osc_listener_at_their_rates(port):
    got = {}
    d = Dispatcher()
    d.set_default_handler(lambda addr, *args: got.setdefault(addr, []).append(args))
    server = ThreadingOSCUDPServer(("127.0.0.1", port), d)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    out = OscOut([("127.0.0.1", port)], fps=30, latent_rate=30, features_rate=10, status_rate=2, per_dim=True)
    for j in range(30):
        out.publish(j, np.arange(4, dtype=np.float32), np.ones(6, np.float32), (30.0, 60.0, 0))
    eventually(lambda: len(got.get("/latentvj/latent/3", [])) == 30 and len(got.get("/latentvj/status", [])) == 2)
    server.shutdown()
    out.close()
    assert len(got["/latentvj/latent"]) == 30 and got["/latentvj/latent"][0] == (0.0, 1.0, 2.0, 3.0)
    assert len(got["/latentvj/latent/3"]) == 30 and got["/latentvj/latent/3"][0] == (3.0,)
    assert len(got["/latentvj/features"]) == 10
    assert got["/latentvj/status"] == [(30.0, 60.0, 0)] * 2
