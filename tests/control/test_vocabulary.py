"""The control vocabulary against the README's OSC table."""


from conftest import REPO
from latentvj.daemon.control.vocabulary import ADDRESSES


def test_readme_table_lists_every_address():

    readme = (REPO / "README.md").read_text()
    for address, types, _ in ADDRESSES:
        args = {"": "", "i...": "i ..."}.get(types, types)
        assert f"| `{address}` | {args} |" in readme, address
