"""A strict fake of TouchDesigner's `td` module, made from td_project/td_api.toml.

It knows only the operator classes, parameters, menus, callbacks and methods the table lists,
and refuses what TouchDesigner would: an unknown class or parameter, a value of the wrong kind,
a wire between families or beyond an operator's inputs, a custom parameter name that is not a
capital then lowercase letters and digits, a callback with the wrong signature, an expression
that names a custom parameter the COMP does not have. Custom parameter changes fire the
Parameter Execute DATs watching them, as in TouchDesigner, so a test can play the panel.
"""
from __future__ import annotations

import re
import types
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

API_PATH = Path(__file__).resolve().parents[2] / "td_project" / "td_api.toml"
PARENT_PAR = re.compile(r"parent\(\)\.par\.(\w+)")


class TDError(Exception):
    """What TouchDesigner would refuse (an error dialog or a script error in the Textport)."""


class OpType:
    def __init__(self, name: str, spec: dict) -> None:
        self.name, self.family, self.inputs = name, spec["family"], spec["inputs"]
        self.pars, self.menus = spec.get("pars", {}), spec.get("menus", {})
        self.callbacks, self.methods = spec.get("callbacks", {}), spec.get("methods", [])

    def __repr__(self) -> str:
        return self.name


class Par:
    def __init__(self, owner: "Node", name: str, kind: str, style: str | None = None) -> None:
        self.owner, self.name, self.kind = owner, name, kind
        self.style = style or {"pulse": "Pulse", "toggle": "Toggle", "float": "Float", "int": "Int"}.get(kind, "Str")
        self.custom = style is not None
        self._val = {"Float": 0.0, "Int": 0, "Toggle": False}.get(self.style, "")
        self._expr: str | None = None
        self.label, self.default, self.normMin, self.normMax, self.readOnly = name, None, 0.0, 1.0, False
        self.pulses = 0

    # value ------------------------------------------------------------------------------------
    @property
    def val(self):
        return self._val

    @val.setter
    def val(self, value) -> None:
        if self.kind == "pulse" or self.style == "Pulse":
            raise TDError(f"{self.owner.path}.par.{self.name} is a pulse; call .pulse()")
        self._check(value)
        prev, self._val, self._expr = self._val, value, None
        if self.custom and prev != value:
            self.owner.notify("onValueChange", self, prev)

    def _check(self, value) -> None:
        k, ok = self.kind, True
        if k in ("float", "Float"):
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        elif k in ("int", "Int"):
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif k in ("toggle", "Toggle"):
            ok = isinstance(value, bool) or value in (0, 1)
        elif k == "menu":
            allowed = self.owner.optype.menus.get(self.name, [])
            if value not in allowed:
                raise TDError(f"{self.owner.path}.par.{self.name}: {value!r} is not one of {allowed}")
        elif k in ("str", "Str", "op"):
            ok = isinstance(value, str)
        if not ok:
            raise TDError(f"{self.owner.path}.par.{self.name} ({k}): cannot take {value!r}")

    @property
    def expr(self) -> str | None:
        return self._expr

    @expr.setter
    def expr(self, text: str) -> None:
        try:
            compile(text, "<expr>", "eval")
        except SyntaxError as exc:
            raise TDError(f"{self.owner.path}.par.{self.name}: bad expression {text!r}") from exc
        comp = self.owner.parent
        for name in PARENT_PAR.findall(text):
            if name not in comp.par._pars:
                raise TDError(f"{self.owner.path}.par.{self.name}: expression names parent().par.{name}, "
                              f"which {comp.path} does not have")
        self._expr = text

    def eval(self):
        if self._expr is not None:
            value = eval(self._expr, {"parent": lambda: self.owner.parent, "op": self.owner.parent.op})
            return value.eval() if isinstance(value, Par) else value  # TD casts a Par to its value
        return self._val

    def pulse(self) -> None:
        if self.style != "Pulse":
            raise TDError(f"{self.owner.path}.par.{self.name} is not a pulse")
        self.pulses += 1
        if self.custom:
            self.owner.notify("onPulse", self)


class ParCollection:
    def __init__(self, owner: "Node") -> None:
        object.__setattr__(self, "_owner", owner)
        object.__setattr__(self, "_pars", {n: Par(owner, n, k) for n, k in owner.optype.pars.items()})

    def __getattr__(self, name: str) -> Par:
        try:
            return self._pars[name]
        except KeyError:
            raise AttributeError(f"'td.ParCollection' object has no attribute '{name}' "
                                 f"({self._owner.optype} has no such parameter)") from None

    def __setattr__(self, name: str, value) -> None:
        getattr(self, name).val = value


class Page:
    def __init__(self, owner: "Node", name: str) -> None:
        self.owner, self.name, self.pars = owner, name, []

    def _append(self, style: str, name: str, label: str | None = None, size: int = 1) -> list[Par]:
        if not re.fullmatch(self.owner.api["custom"]["name_pattern"], name):
            raise TDError(f"custom parameter name {name!r}: must be a capital letter then lowercase letters "
                          "and digits")
        if name in self.owner.par._pars:
            raise TDError(f"{self.owner.path} already has a parameter {name}")
        par = Par(self.owner, name, style, style)
        par.label = label or name
        self.owner.par._pars[name] = par
        self.pars.append(par)
        return [par]

    def appendFloat(self, name, label=None, size=1):
        return self._append("Float", name, label, size)

    def appendInt(self, name, label=None, size=1):
        return self._append("Int", name, label, size)

    def appendToggle(self, name, label=None):
        return self._append("Toggle", name, label)

    def appendStr(self, name, label=None):
        return self._append("Str", name, label)

    def appendPulse(self, name, label=None):
        return self._append("Pulse", name, label)


class Connector:
    def __init__(self, owner: "Node", index: int) -> None:
        self.owner, self.index, self.connections = owner, index, []

    def connect(self, source: "Node") -> None:
        if not isinstance(source, Node):
            raise TDError(f"{self.owner.path} input {self.index}: cannot connect {source!r}")
        if source.optype.family != self.owner.optype.family:
            raise TDError(f"cannot wire {source.optype.family} {source.path} into {self.owner.optype.family} "
                          f"{self.owner.path}")
        if source is self.owner:
            raise TDError(f"{self.owner.path}: cannot wire an operator into itself")
        self.connections = [source]

    def disconnect(self) -> None:
        self.connections = []


class Cell:
    def __init__(self, val: str) -> None:
        self.val = val


class Node:
    def __init__(self, api: dict, optype: OpType, name: str, parent: "Node | None") -> None:
        self.api, self.optype, self.name, self.parent = api, optype, name, parent
        self.OPType, self.nodeX, self.nodeY, self.valid = optype.name, 0, 0, True
        self.par = ParCollection(self)
        self.inputConnectors = [Connector(self, i) for i in range(optype.inputs)]
        self.children: dict[str, Node] = {}
        self.customPages: list[Page] = []
        self._storage: dict = {}
        self._text = ""
        self.rows: list[list[Cell]] = []
        self.sent: list[tuple[str, list]] = []

    @property
    def path(self) -> str:
        if self.parent is None:
            return "/"
        return (self.parent.path.rstrip("/") + "/" + self.name)

    # COMP ------------------------------------------------------------------------------------
    def create(self, optype, name: str) -> "Node":
        if self.optype.family != "COMP":
            raise TDError(f"{self.path} is not a COMP")
        if not isinstance(optype, OpType):
            raise TDError(f"create: {optype!r} is not an operator type")
        if name in self.children:
            raise TDError(f"{self.path} already has {name}")
        node = Node(self.api, optype, name, self)
        self.children[name] = node
        return node

    def op(self, path: str) -> "Node | None":
        """Absolute, or relative as in TouchDesigner: a name is a child of a COMP or a sibling
        of anything else; '..' is the COMP an operator sits in."""
        if path.startswith("/"):
            node, parts = root_of(self), [p for p in path.split("/") if p]
        else:
            parts = path.split("/")
            node = self if self.optype.family == "COMP" or parts[0] == ".." else self.parent
        for part in parts:
            node = node.parent if part == ".." else node.children.get(part)
            if node is None:
                return None
        return node

    def appendCustomPage(self, name: str) -> Page:
        page = Page(self, name)
        self.customPages.append(page)
        return page

    def store(self, key: str, value) -> None:
        self._storage[key] = value

    def fetch(self, key: str, default=None):
        return self._storage.get(key, default)

    def destroy(self) -> None:
        del self.parent.children[self.name]
        self.valid = False

    def notify(self, callback: str, par: Par, *rest) -> None:
        """Fire the Parameter Execute DATs inside this COMP that watch its custom parameters."""
        for dat in list(self.children.values()):
            if dat.OPType != "parameterexecuteDAT" or not dat.par.active.val or not dat.par.custom.val:
                continue
            if dat.op(dat.par.op.val) is not self:
                continue
            wanted = dat.par.valuechange.val if callback == "onValueChange" else dat.par.onpulse.val
            if wanted and callback in dat.module:
                dat.module[callback](par, *rest)

    # DAT -------------------------------------------------------------------------------------
    @property
    def text(self) -> str:
        return self._text

    @text.setter
    def text(self, source: str) -> None:
        if self.optype.family != "DAT":
            raise TDError(f"{self.path} is not a DAT")
        self._text = source
        check_callbacks(self, self.optype.callbacks)

    @property
    def module(self) -> dict:
        """The DAT's text run as TouchDesigner runs a callbacks DAT: op and parent relative to it."""
        scope = {"op": self.parent.op, "parent": lambda: self.parent, "me": self}
        exec(compile(self._text, self.path, "exec"), scope)
        return scope

    @property
    def numRows(self) -> int:
        return len(self.rows)

    def appendRow(self, values: list) -> None:
        if self.OPType != "tableDAT":
            raise TDError(f"{self.path} is not a Table DAT")
        self.rows.append([Cell(str(v)) for v in values])

    def __getitem__(self, rc: tuple[int, int]) -> Cell:
        return self.rows[rc[0]][rc[1]]

    def sendOSC(self, address: str, values: list, asBundle: bool = False) -> int:
        if "sendOSC" not in self.optype.methods:
            raise TDError(f"{self.optype} has no sendOSC")
        if not isinstance(address, str) or not address.startswith("/"):
            raise TDError(f"sendOSC: address {address!r} must start with '/'")
        if not isinstance(values, list) or not all(isinstance(v, (int, float, str)) for v in values):
            raise TDError(f"sendOSC: values must be a list of int, float or str, got {values!r}")
        self.sent.append((address, list(values)))
        return 1


def check_callbacks(dat: Node, wanted: dict[str, list[str]]) -> None:
    """The DAT's text compiles and defines each callback it defines with TouchDesigner's arguments."""
    try:
        code = compile(dat.text, dat.path, "exec")
    except SyntaxError as exc:
        raise TDError(f"{dat.path}: {exc}") from exc
    scope: dict = {}
    exec(code, scope)
    for name, args in wanted.items():
        fn = scope.get(name)
        if fn is not None and list(fn.__code__.co_varnames[:fn.__code__.co_argcount]) != args:
            raise TDError(f"{dat.path}: {name} must take ({', '.join(args)})")


def root_of(node: Node) -> Node:
    while node.parent is not None:
        node = node.parent
    return node


def check_network(comp: Node) -> None:
    """What TouchDesigner would show as errors once the network cooks: OP parameters naming
    nothing, callbacks DATs with the wrong signature, expressions that do not evaluate."""
    api = comp.api
    for node in comp.children.values():
        for par in node.par._pars.values():
            if par.kind == "op" and par.val and node.op(par.val) is None:
                raise TDError(f"{node.path}.par.{par.name} = {par.val!r} names no operator")
            if par.expr is not None:
                par.eval()
        cb = api.get("callback_dats", {}).get(node.OPType)
        if cb and node.par.callbacks.val:
            check_callbacks(node.op(node.par.callbacks.val), cb["callbacks"])


def make_td(api_path: Path = API_PATH) -> types.ModuleType:
    """A fresh `td` module with an empty /project1."""
    api = tomllib.loads(api_path.read_text())
    td = types.ModuleType("td")
    types_ = {name: OpType(name, spec) for name, spec in api["ops"].items()}
    for name, optype in types_.items():
        setattr(td, name, optype)
    root = Node(api, types_["baseCOMP"], "", None)
    root.create(types_["baseCOMP"], "project1")
    td.op = root.op
    td.root = root
    td.TDError = TDError
    td.check_network = check_network
    return td
