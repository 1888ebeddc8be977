import socket

from latentvj.daemon.web.guard import Guard


def test_hosts_by_ip_or_our_own_names_pass_and_other_names_do_not():
    g = Guard(None, False)
    for host in ("127.0.0.1:9010", "[::1]:9010", "localhost:9010", "192.168.1.20", f"{socket.gethostname()}:9010"):
        assert g.host_refusal(host) is None, host
    for host in ("evil.example", "evil.example:9010", "", None, "localhost.evil.example"):
        assert g.host_refusal(host) is not None, host


def test_a_browser_origin_must_be_this_page():
    g = Guard(None, False)
    assert g.origin_refusal(None, "127.0.0.1:9010") is None  # not a browser
    assert g.origin_refusal("http://127.0.0.1:9010", "127.0.0.1:9010") is None
    assert "Origin" in g.origin_refusal("http://evil.example", "127.0.0.1:9010")
    assert g.origin_refusal("http://127.0.0.1:9011", "127.0.0.1:9010") is not None
    assert g.origin_refusal("null", "127.0.0.1:9010") is not None


def test_a_token_is_made_off_loopback_and_compared_whole():
    assert Guard(None, False).token is None and Guard(None, False).token_refusal(None) is None
    made = Guard(None, True)
    assert made.token and len(made.token) >= 16
    assert made.token_refusal(made.token) is None
    assert "required" in made.token_refusal(None)
    assert made.token_refusal(made.token[:-1]) == "wrong token"
    assert Guard("given-token", True).token == "given-token"
