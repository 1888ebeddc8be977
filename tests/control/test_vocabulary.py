"""The control vocabulary against the README's OSC table."""


from conftest import REPO
from latentvj.daemon.control.vocabulary import ADDRESSES
from latentvj.daemon.web.live_values import page_nodes


def test_readme_table_lists_every_address():

    readme = (REPO / "README.md").read_text()
    for address, types, _ in ADDRESSES:
        args = {"": "", "i...": "i ..."}.get(types, types)
        assert f"| `{address}` | {args} |" in readme, address


def test_readme_lists_what_only_the_websocket_sends():
    readme = (REPO / "README.md").read_text()
    for address, _, _ in page_nodes(3):
        assert f"| `{address}` |" in readme, address
