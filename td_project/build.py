"""Builds (or updates in place) the latentvj network inside a TouchDesigner project.

Run it from the Textport:  exec(open('/path/to/latentvj/td_project/build.py').read())
or from an Execute DAT's onStart. Set LATENTVJ_PARENT (default '/project1') before the exec to
change where it goes. The panel gets one bias slider per latent dimension of the show the running
daemon plays (asked from its OSCQuery JSON at LATENTVJ_OSCQUERY, default '127.0.0.1:9010'); with
no daemon answering, the built-in demo's 32; LATENTVJ_DIMS, when set, wins. Re-running updates
operators, parameters and wires, keeps the performer's panel values and table edits, and
removes operators an earlier version made that the spec no longer has.

The first half is the spec (plain data: what the network is); the second half the builder.
Every operator class and parameter name used here is in td_api.toml with its source.
"""
import td  # TouchDesigner's module (tests give it a strict fake made from td_api.toml)

COMP_NAME = "latentvj"
DEFAULT_DIMS = 32  # the built-in demo show's latent size, when no daemon answers
OSCQUERY = "127.0.0.1:9010"

# ---- the spec ---------------------------------------------------------------------------------
# Custom parameter pages on the latentvj COMP: (name, style, default, min, max, label).
# "{i}" in a name is repeated once per latent dimension.
PAGES = [
    ("Daemon", [
        ("Scale", "Float", 1.0, 0.0, 4.0, "Latent scale"),
        ("Bias{i}", "Float", 0.0, -3.0, 3.0, "Bias {i}"),
        ("Smooth", "Float", 0.0, 0.0, 5.0, "Smooth (s)"),
        ("Freeze", "Toggle", 0, None, None, "Freeze"),
        ("Noise", "Float", 0.0, 0.0, 2.0, "Noise"),
        ("Show", "Str", "demo", None, None, "Show"),
        ("Showfade", "Float", 0.0, 0.0, 30.0, "Show fade (s)"),
        ("Loadshow", "Pulse", None, None, None, "Load show"),
        ("Presetname", "Str", "a", None, None, "Preset name"),
        ("Presetsave", "Pulse", None, None, None, "Save preset"),
        ("Presetmorph", "Float", 0.0, 0.0, 30.0, "Preset morph (s)"),
        ("Presetload", "Pulse", None, None, None, "Load preset"),
        ("Reset", "Pulse", None, None, None, "Reset controls"),
        ("Record", "Toggle", 0, None, None, "Record take"),
        ("Sync", "Pulse", None, None, None, "Send all to daemon"),
        ("Status", "Str", "no status yet", None, None, "Daemon status"),
    ]),
    ("Look", [
        ("Decay", "Float", 0.85, 0.0, 1.0, "Feedback decay"),
        ("Blend", "Float", 0.0, 0.0, 1.0, "Blend second input"),
        ("Brightness", "Float", 1.0, 0.0, 2.0, "Brightness"),
        ("Contrast", "Float", 1.0, 0.0, 2.0, "Contrast"),
        ("Zoom", "Float", 1.0, 0.25, 4.0, "Zoom"),
        ("Rotate", "Float", 0.0, -180.0, 180.0, "Rotate"),
        ("Lag", "Float", 0.1, 0.0, 2.0, "Latent lag (s)"),
    ]),
    ("Connection", [
        ("Sender", "Str", "latentvj", None, None, "Syphon/Spout sender"),
        ("Host", "Str", "127.0.0.1", None, None, "Daemon host"),
        ("Controlport", "Int", 9000, 1, 65535, "Daemon control port"),
        ("Latentport", "Int", 9001, 1, 65535, "Latent port (OSC In CHOP)"),
        ("Statusport", "Int", 9002, 1, 65535, "Status port (OSC In DAT)"),
        ("Midiid", "Str", "1", None, None, "MIDI device ID"),
        ("Window", "Pulse", None, None, None, "Open output window"),
        ("Windoww", "Int", 1920, 1, 16384, "Window width"),
        ("Windowh", "Int", 1080, 1, 16384, "Window height"),
    ]),
]
READ_ONLY = {"Status"}

# Panel parameter -> the daemon message it sends: (address, OSC type, parameter holding the value).
# The pulses send the value of another parameter (Loadshow sends Show). tests check every one
# against the daemon's own OSC server.
MESSAGES = {
    "Scale": ("/latentvj/scale", "f", "Scale"),
    "Bias{i}": ("/latentvj/bias/{i}", "f", "Bias{i}"),
    "Smooth": ("/latentvj/smooth", "f", "Smooth"),
    "Freeze": ("/latentvj/freeze", "i", "Freeze"),
    "Noise": ("/latentvj/noise", "f", "Noise"),
    "Loadshow": ("/latentvj/show", "sf", "Show,Showfade"),  # fades over Showfade s (0: a cut)
    "Presetsave": ("/latentvj/preset/save", "s", "Presetname"),
    "Presetload": ("/latentvj/preset/load", "sf", "Presetname,Presetmorph"),  # morphs over Presetmorph s
    "Reset": ("/latentvj/reset", "", None),
    "Record": ("/latentvj/record", "i", "Record"),  # a take in the daemon's --record folder
}
APART = {"Record"}  # neither sent by Sync nor reset by Reset: a take starts and ends only when asked

# MIDI In CHOP channel -> panel parameter and the range a 0..1 controller covers. Edit the
# midi_map table in TouchDesigner; a re-build keeps your edits.
MIDI_MAP = [
    ("c1", "Scale", 0.0, 4.0),
    ("c2", "Noise", 0.0, 2.0),
    ("c3", "Smooth", 0.0, 5.0),
    ("c4", "Decay", 0.0, 1.0),
    ("c5", "Blend", 0.0, 1.0),
    ("c6", "Zoom", 0.5, 2.0),
    ("c7", "Rotate", -180.0, 180.0),
    ("c8", "Brightness", 0.0, 2.0),
    ("n36", "Freeze", 0.0, 1.0),
    ("n37", "Reset", 0.0, 1.0),
]

PANEL_CALLBACKS = '''\
# Sends the panel's changes to the daemon (generated by td_project/build.py; edit the spec there).
MESSAGES = %(messages)r
APART = %(apart)r


def _value(kind, par):
    v = par.eval()
    return float(v) if kind == "f" else int(v) if kind == "i" else str(v)


def send(name):
    m = MESSAGES.get(name)
    if m is None:
        return None
    address, kind, source = m  # source: the parameter(s) holding the value(s), one per type
    values = [_value(k, getattr(parent().par, s)) for k, s in zip(kind, source.split(","))] if source else []
    op("osc_out").sendOSC(address, values)
    return address


def onValueChange(par, prev):
    if par.style != "Pulse":
        send(par.name)


def onPulse(par):
    if par.name == "Sync":
        for name, (address, kind, source) in MESSAGES.items():
            if source == name and name not in APART:
                send(name)
    elif par.name == "Window":
        op("window").par.winopen.pulse()
    elif par.name == "Reset":  # the daemon and the panel both go back to "as trained"
        send(par.name)
        for name, (address, kind, source) in MESSAGES.items():
            if source == name and name not in APART:
                p = getattr(parent().par, name)
                p.val = p.default
    else:
        send(par.name)
'''

ONSET_EVENTS = ("beat", "kick", "snare", "hat")  # /latentvj/onset/<event> (the daemon's music_analysis.EVENTS)

STATUS_CALLBACKS = '''\
# Shows the daemon's /latentvj/status (fps, latency ms, dropped frames) on the panel, and counts
# the one-shot /latentvj/onset/<event> messages in the onsets table (a count per event: a DAT to
# CHOP of it, or a Trigger CHOP on its change, gives a pulse per hit).
def onReceiveOSC(dat, rowIndex, message, bytes, timeStamp, address, args, peer):
    if address == "/latentvj/status" and len(args) >= 3:
        parent().par.Status = "%.1f fps, %.0f ms latency, %d dropped" % (args[0], args[1], args[2])
    elif address == "/latentvj/error" and args:
        parent().par.Status = "error: " + str(args[0])
    elif address.startswith("/latentvj/onset/"):
        table = op("onsets")
        event = address.rsplit("/", 1)[1]
        for r in range(1, table.numRows):
            if table[r, 0].val == event:
                table[r, 1].val = str(int(table[r, 1].val) + 1)
'''

MIDI_CALLBACKS = '''\
# Moves the panel from the MIDI In CHOP through the midi_map table (channel, parameter, low, high).
def _route(name):
    table = op("midi_map")
    for r in range(1, table.numRows):
        if table[r, 0].val == name:
            return table[r, 1].val, float(table[r, 2].val), float(table[r, 3].val)
    return None


def onValueChange(channel, sampleIndex, val, prev):
    route = _route(channel.name)
    if route is None:
        return
    name, low, high = route
    par = getattr(parent().par, name)
    if par.style == "Pulse":
        if val >= 0.5 and prev < 0.5:
            par.pulse()
    elif par.style == "Toggle":
        par.val = val >= 0.5
    else:
        par.val = low + val * (high - low)
'''

# name: (class, inputs, parameters, text, (x, y)). A parameter value starting with "=" is an
# expression ("parent()" is the latentvj COMP); one starting with "@" names an operator of this
# spec ("@.." the latentvj COMP), set as an absolute path so it means the same everywhere.
NODES = {
    # picture: the daemon's sender -> feedback trail -> blend a second input -> level -> transform
    "video_in": ("syphonspoutinTOP", [], {"active": True, "sendername": "=parent().par.Sender"}, None, (0, 0)),
    "second_in": ("inTOP", [], {}, None, (0, -150)),
    "feedback": ("feedbackTOP", ["video_in"], {"top": "@trail"}, None, (150, 100)),
    "decay": ("levelTOP", ["feedback"], {"opacity": "=parent().par.Decay"}, None, (300, 100)),
    "trail": ("compositeTOP", ["video_in", "decay"], {"operand": "add"}, None, (450, 0)),
    "blend": ("crossTOP", ["trail", "second_in"], {"cross": "=parent().par.Blend"}, None, (600, 0)),
    "level": ("levelTOP", ["blend"], {"brightness1": "=parent().par.Brightness",
                                     "contrast": "=parent().par.Contrast"}, None, (750, 0)),
    "transform": ("transformTOP", ["level"], {"sx": "=parent().par.Zoom", "sy": "=parent().par.Zoom",
                                             "rotate": "=parent().par.Rotate", "extend": "mirror"}, None, (900, 0)),
    "out": ("nullTOP", ["transform"], {}, None, (1050, 0)),
    "window": ("windowCOMP", [], {"winop": "@out", "winw": "=parent().par.Windoww",
                                  "winh": "=parent().par.Windowh", "borders": False}, None, (1200, 0)),
    # latents: one channel per dimension, lagged, exposed as CHOP `latent` and the COMP's output;
    # the music analysis on the same port: `features` (18 channels) and `beat` (phase, tempo, bar).
    # Patterns name the address after "vj/", which every channel name carries ("latentvj/...").
    "latent_in": ("oscinCHOP", [], {"active": True, "port": "=parent().par.Latentport"}, None, (0, -400)),
    "latent_select": ("selectCHOP", ["latent_in"], {"channames": "*vj/latent*"}, None, (150, -400)),
    "latent_lag": ("lagCHOP", ["latent_select"], {"lag1": "=parent().par.Lag", "lag2": "=parent().par.Lag"},
                   None, (300, -400)),
    "latent": ("nullCHOP", ["latent_lag"], {}, None, (450, -400)),
    "latent_out": ("outCHOP", ["latent"], {}, None, (600, -400)),
    "features_select": ("selectCHOP", ["latent_in"], {"channames": "*vj/features*"}, None, (150, -500)),
    "features": ("nullCHOP", ["features_select"], {}, None, (450, -500)),
    "features_out": ("outCHOP", ["features"], {}, None, (600, -500)),
    "beat_select": ("selectCHOP", ["latent_in"], {"channames": "*vj/beat*"}, None, (150, -550)),
    "beat": ("nullCHOP", ["beat_select"], {}, None, (450, -550)),
    "beat_out": ("outCHOP", ["beat"], {}, None, (600, -550)),
    "onsets": ("tableDAT", [], {}, None, (300, -750)),
    # status from the daemon, shown on the panel
    "status_callbacks": ("textDAT", [], {}, STATUS_CALLBACKS, (0, -650)),
    "status_in": ("oscinDAT", [], {"active": True, "port": "=parent().par.Statusport",
                                   "callbacks": "@status_callbacks"}, None, (150, -650)),
    # the panel -> the daemon
    "osc_out": ("oscoutDAT", [], {"active": True, "address": "=parent().par.Host",
                                  "port": "=parent().par.Controlport"}, None, (300, -650)),
    "panel_exec": ("parameterexecuteDAT", [], {"active": True, "op": "@..", "pars": "*", "custom": True,
                                               "builtin": False, "valuechange": True, "onpulse": True},
                   PANEL_CALLBACKS, (450, -650)),
    # a MIDI controller -> the panel
    "midi_in": ("midiinCHOP", [], {"active": True, "source": "device", "id": "=parent().par.Midiid",
                                   "simplified": False, "controlname": "c", "controlind": "0-127",
                                   "norm": "0to1", "notename": "n", "notescope": "0-127",
                                   "notenorm": "0to1"}, None, (0, -900)),
    "midi_map": ("tableDAT", [], {}, None, (150, -1000)),
    "midi_exec": ("chopexecuteDAT", [], {"active": True, "chop": "@midi_in", "valuechange": True},
                  MIDI_CALLBACKS, (300, -900)),
}


# ---- the builder ------------------------------------------------------------------------------
def expand(items, dims):
    """Repeat "{i}" entries once per latent dimension."""
    out = []
    for item in items:
        if "{i}" in item[0]:
            out += [tuple(x.format(i=i) if isinstance(x, str) else x for x in item) for i in range(dims)]
        else:
            out.append(item)
    return out


def messages(dims):
    """MESSAGES with one entry per dimension for the "{i}" ones."""
    return {k: (a, t, s) for k, a, t, s in expand([(k,) + v for k, v in MESSAGES.items()], dims)}


def _custom_pars(comp, dims):
    """Append what is missing, update labels and ranges of what is there, keep the values."""
    pages = {p.name: p for p in comp.customPages}
    for page_name, pars in PAGES:
        page = pages.get(page_name) or comp.appendCustomPage(page_name)
        for name, style, default, low, high, label in expand(pars, dims):
            par = getattr(comp.par, name, None)
            if par is None:
                par = getattr(page, "append" + style)(name, label=label)[0]
                if default is not None:
                    par.default = default
                    par.val = default
            par.label = label
            if low is not None:
                par.normMin, par.normMax = low, high
            par.readOnly = name in READ_ONLY


def _node(comp, name, cls, pars, text, xy):
    node = comp.op(name)
    if node is not None and node.OPType != cls:
        node.destroy()
        node = None
    if node is None:
        node = comp.create(getattr(td, cls), name)
    node.nodeX, node.nodeY = xy
    for key, value in pars.items():
        par = getattr(node.par, key)
        if isinstance(value, str) and value.startswith("="):
            par.expr = value[1:]
        elif isinstance(value, str) and value.startswith("@"):
            par.val = comp.path if value == "@.." else comp.path + "/" + value[1:]
        else:
            par.val = value
    if text is not None:
        node.text = text
    return node


def daemon_dims(where=OSCQUERY, timeout=1.0):
    """The running daemon's latent size, counted from its OSCQuery tree (/latentvj/bias/<i>);
    None when nothing answers there."""
    import json
    import urllib.request

    try:
        with urllib.request.urlopen("http://%s/" % where, timeout=timeout) as reply:
            tree = json.load(reply)
        return len(tree["CONTENTS"]["latentvj"]["CONTENTS"]["bias"]["CONTENTS"]) or None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def pick_dims(given=None, where=OSCQUERY):
    """LATENTVJ_DIMS when given, else the running daemon's, else the demo's; and where it came from."""
    if given is not None:
        return int(given), "LATENTVJ_DIMS"
    asked = daemon_dims(where)
    if asked is not None:
        return asked, "the daemon at %s" % where
    return DEFAULT_DIMS, "no daemon at %s: the demo's" % where


def build(parent_path="/project1", dims=DEFAULT_DIMS):
    """Create or update /project1/latentvj; returns the COMP."""
    root = td.op(parent_path)
    if root is None:
        raise ValueError("latentvj: no operator at %s (set LATENTVJ_PARENT)" % parent_path)
    comp = root.op(COMP_NAME) or root.create(td.baseCOMP, COMP_NAME)
    _custom_pars(comp, dims)
    nodes = {}
    for name, (cls, inputs, pars, text, xy) in NODES.items():
        if name == "panel_exec":
            text = PANEL_CALLBACKS % {"messages": messages(dims), "apart": sorted(APART)}
        nodes[name] = _node(comp, name, cls, pars, text, xy)
    for name, (cls, inputs, pars, text, xy) in NODES.items():
        node = nodes[name]
        for connector in node.inputConnectors:
            connector.disconnect()
        for i, source in enumerate(inputs):
            node.inputConnectors[i].connect(nodes[source])
    onsets = nodes["onsets"]
    if onsets.numRows == 0:
        onsets.appendRow(["event", "count"])
        for event in ONSET_EVENTS:
            onsets.appendRow([event, "0"])
    table = nodes["midi_map"]
    if table.numRows == 0:  # a re-build keeps the performer's edits
        table.appendRow(["channel", "parameter", "low", "high"])
        for row in MIDI_MAP:
            table.appendRow([str(x) for x in row])
    for stale in set(comp.fetch("latentvj_nodes", [])) - set(NODES):
        old = comp.op(stale)
        if old is not None:
            old.destroy()
    comp.store("latentvj_nodes", sorted(NODES))
    return comp


if not globals().get("LATENTVJ_NO_BUILD"):
    _dims, _whence = pick_dims(globals().get("LATENTVJ_DIMS"), globals().get("LATENTVJ_OSCQUERY", OSCQUERY))
    _comp = build(globals().get("LATENTVJ_PARENT", "/project1"), _dims)
    print("latentvj: built %s (%d operators, %d latent dimensions from %s); open its parameters for the panel"
          % (_comp.path, len(NODES), _dims, _whence))
