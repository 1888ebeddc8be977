"""The control vocabulary against the README's OSC table."""


from conftest import REPO
from latentvj.daemon.control.vocabulary import ADDRESSES
from latentvj.daemon.web.live_values import page_nodes


def test_readme_table_lists_every_address():

    readme = (REPO / "README.md").read_text()
    for address, types, *_ in ADDRESSES:
        args = {"": "", "i...": "i ...", "s[f]": "s [f]"}.get(types, types)
        assert f"| `{address}` | {args} |" in readme, address


def test_readme_lists_what_only_the_websocket_sends():
    readme = (REPO / "README.md").read_text()
    for address, _, _ in page_nodes(3):
        assert f"| `{address}` |" in readme, address


def test_every_address_has_its_handler_and_the_budget_knows_it():
    from latentvj.daemon.control.vocabulary import KNOWN, KNOWN_BYTES, ControlHandlers

    for a in ADDRESSES:
        assert callable(getattr(ControlHandlers, "on_" + a.handler, None)), a.path
        concrete = a.path.replace("<i>", "123456")
        assert KNOWN.match(concrete) and KNOWN_BYTES.match(concrete.encode()), a.path
    assert not KNOWN.match("/latentvj/bias/1234567") and not KNOWN.match("/latentvj/scale/x")
    assert not KNOWN.match("/latentvj/show/extra")
