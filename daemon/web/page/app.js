// The page: the daemon's OSCQuery tree becomes the controls; OSC over the OSCQuery WebSocket
// carries values both ways (LISTEN for what the page shows, binary OSC for what it sets).
import { encode, decode } from "./osc.js";

const $ = (id) => document.getElementById(id);
const token = new URLSearchParams(location.search).get("token");
const withToken = (url) => (token ? `${url}?token=${encodeURIComponent(token)}` : url);
const SEND_EVERY_MS = 33; // a dragged slider sends at most 30 messages a second
const HOLD_MS = 400; // after a local move, the daemon's echo does not fight the finger

// For tests and the benchmark: what the page received.
const stats = (window.latentvj = { previewFrames: 0, delays: [], latent: [], errors: [], connected: false, built: 0 });

let ws = null;
let tree = null;
const widgets = new Map(); // address -> {set(values), movedAt}
const listening = new Set();
const pending = new Map(); // address -> args waiting for the send timer
let sendTimer = null;

function send(address, args = [], types = "") {
  pending.set(address, [args, types]);
  if (!sendTimer) sendTimer = setTimeout(flush, SEND_EVERY_MS);
}
function flush() {
  sendTimer = null;
  if (!ws || ws.readyState !== WebSocket.OPEN) return;
  for (const [address, [args, types]] of pending) ws.send(encode(address, args, types));
  pending.clear();
}
function listen(address) {
  listening.add(address);
  if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ COMMAND: "LISTEN", DATA: address }));
}

// ---- controls from the tree ------------------------------------------------------------------
function nodes(node, out = []) {
  if (node.FULL_PATH && (node.TYPE !== undefined || node.ACCESS !== undefined)) out.push(node);
  for (const child of Object.values(node.CONTENTS || {})) nodes(child, out);
  return out;
}
const writable = (n) => n.ACCESS === 2 || n.ACCESS === 3;
const fmt = (v) => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(2));

function learnTarget(el, address) {
  el.addEventListener("click", () => {
    if (!$("learn").checked) return;
    send("/latentvj/midi/learn", [address], "s");
  });
}

// One address's control: `input` shows the daemon's value (show) and sends the performer's
// (read) on `event`; returns the name label, which MIDI learn taps.
function bind(node, parent, row, label, input, event, show, read, type) {
  const name = Object.assign(document.createElement("span"), { className: "name", textContent: label,
                                                               title: `${node.FULL_PATH}: ${node.DESCRIPTION || ""}` });
  learnTarget(name, node.FULL_PATH);
  input.dataset.address = node.FULL_PATH;
  input.setAttribute("aria-label", node.FULL_PATH);
  const w = { movedAt: -Infinity };
  w.set = (values) => {
    if (performance.now() - w.movedAt >= HOLD_MS) show(values[0]);
  };
  input.addEventListener(event, () => {
    w.movedAt = performance.now();
    send(node.FULL_PATH, [read()], type);
  });
  parent.append(row);
  if (node.VALUE) w.set(node.VALUE);
  widgets.set(node.FULL_PATH, w);
  listen(node.FULL_PATH);
  return name;
}

function slider(node, parent, cls = "control", label = null) {
  const range = (node.RANGE && node.RANGE[0]) || { MIN: 0, MAX: 1 };
  const isInt = node.TYPE === "i";
  const row = Object.assign(document.createElement("div"), { className: cls });
  const input = Object.assign(document.createElement("input"), { type: "range" });
  input.min = range.MIN;
  input.max = range.MAX;
  input.step = isInt ? 1 : (range.MAX - range.MIN) / 400;
  const out = document.createElement("output");
  const shown = (v) => (out.textContent = isInt ? String(v) : fmt(v));
  const name = bind(node, parent, row, label ?? node.FULL_PATH.replace("/latentvj/", ""), input, "input",
                    (v) => { input.value = v; shown(v); },
                    () => { const v = Number(input.value); shown(v); return v; }, isInt ? "i" : "f");
  if (cls === "dim") row.append(input, name);
  else row.append(name, input, out);
}

function toggle(node, parent) {
  const row = Object.assign(document.createElement("div"), { className: "control" });
  const box = Object.assign(document.createElement("input"), { type: "checkbox" });
  const name = bind(node, parent, row, node.FULL_PATH.replace("/latentvj/", ""), box, "change",
                    (v) => { box.checked = Boolean(v); }, () => (box.checked ? 1 : 0), "i");
  row.append(name, box);
}

function button(node, parent) {
  const row = document.createElement("div");
  row.className = "control";
  const b = document.createElement("button");
  b.textContent = node.FULL_PATH.replace("/latentvj/", "");
  b.title = node.DESCRIPTION || "";
  b.addEventListener("click", () => ($("learn").checked ? send("/latentvj/midi/learn", [node.FULL_PATH], "s")
                                                          : send(node.FULL_PATH, [], "")));
  row.append(b);
  parent.append(row);
}

function build() {
  const controls = $("controls");
  const biases = $("biases");
  const scales = $("scales");
  controls.replaceChildren();
  biases.replaceChildren();
  scales.replaceChildren();
  widgets.clear();
  const all = nodes(tree);
  const perDim = new Map();
  for (const n of all) {
    const m = n.FULL_PATH.match(/^\/latentvj\/(bias|scale)\/(\d+)$/);
    if (m) {
      if (!perDim.has(m[2])) perDim.set(m[2], {});
      perDim.get(m[2])[m[1]] = n;
      continue;
    }
    if (!writable(n) && n.ACCESS !== 0) continue;
    const r = n.RANGE && n.RANGE[0];
    if (n.TYPE === "i" && r && r.MIN === 0 && r.MAX === 1) toggle(n, controls);
    else if ((n.TYPE === "f" || n.TYPE === "i") && n.RANGE) slider(n, controls);
    else if (n.ACCESS === 0 && !n.TYPE && n.FULL_PATH.match(/\/(reset|map\/reload)$/)) button(n, controls);
  }
  for (const [i, d] of [...perDim].sort((a, b) => a[0] - b[0])) {
    if (d.bias) slider(d.bias, biases, "dim", `${i}`);
    if (d.scale) slider(d.scale, scales, "dim", `${i}`);
  }
  stats.built += 1;
}

async function loadTree() {
  const r = await fetch(withToken("/"), { headers: { Accept: "application/json" } });
  tree = await r.json();
  build();
}

// ---- what the daemon sends -------------------------------------------------------------------
let shownUrl = null; // the JPEG on screen
let loadingUrl = null; // the one being decoded; a newer frame replaces it
function showPreview([index, wall, jpeg]) {
  const url = URL.createObjectURL(new Blob([jpeg], { type: "image/jpeg" }));
  const img = $("preview");
  if (loadingUrl) URL.revokeObjectURL(loadingUrl); // superseded before it loaded
  loadingUrl = url;
  img.onload = () => {
    const delay = Date.now() - wall * 1000;
    stats.previewFrames += 1;
    stats.lastIndex = index;
    stats.delays.push(delay);
    if (stats.delays.length > 1000) stats.delays.shift();
    $("preview-info").textContent = `frame ${index} · ${delay.toFixed(0)} ms behind`;
    if (shownUrl) URL.revokeObjectURL(shownUrl);
    shownUrl = url;
    loadingUrl = null;
  };
  img.onerror = () => {
    URL.revokeObjectURL(url);
    if (loadingUrl === url) loadingUrl = null;
  };
  img.src = url;
}

function drawLatent(values) {
  const c = $("latent");
  const w = (c.width = c.clientWidth || 300);
  const h = c.height;
  const g = c.getContext("2d");
  g.clearRect(0, 0, w, h);
  const bw = w / Math.max(values.length, 1);
  g.fillStyle = "#f5a623";
  values.forEach((v, k) => {
    const y = Math.max(-1, Math.min(1, v / 3)) * (h / 2);
    g.fillRect(k * bw + 1, h / 2 - Math.max(y, 0), Math.max(bw - 2, 1), Math.abs(y));
  });
}

function flash(id) {
  const el = $(id);
  if (!el) return;
  el.classList.add("on");
  setTimeout(() => el.classList.remove("on"), 90);
}

function list(id, items, make) {
  const ul = $(id);
  ul.replaceChildren(...items.map(make));
}

function received({ address, args }) {
  const w = widgets.get(address);
  if (w) { w.set(args); return; }
  if (address === "/latentvj/preview") showPreview(args);
  else if (address === "/latentvj/latent") { stats.latent = args; drawLatent(args); }
  else if (address === "/latentvj/status") {
    $("fps").textContent = args[0].toFixed(1);
    $("latency").textContent = args[1] < 0 ? "–" : args[1].toFixed(0);
    $("dropped").textContent = args[2];
  } else if (address === "/latentvj/beat") {
    $("beat-phase").style.width = `${(1 - args[0]) * 100}%`;
    $("tempo").textContent = args[1] > 0 ? `${args[1].toFixed(0)} bpm` : "– bpm";
  } else if (address.startsWith("/latentvj/onset/")) flash(`onset-${address.split("/").pop()}`);
  else if (address === "/latentvj/info/show") $("show").textContent = args[0];
  else if (address === "/latentvj/info/input") { $("input-name").textContent = args[0]; $("level").value = args[1]; }
  else if (address === "/latentvj/info/presets") {
    list("presets", args, (name) => item(name, "load", () => loadPreset(name)));
  } else if (address === "/latentvj/info/shows") {
    list("shows", args, (spec) => {
      const li = item(spec.split("/").pop(), "switch", () => switchShow(spec));
      li.title = spec;
      li.classList.toggle("current", spec.split("/").pop() === $("show").textContent);
      return li;
    });
  } else if (address === "/latentvj/info/errors") {
    stats.errors = args.slice(1);
    list("errors", args.slice(1).reverse(), (line) => Object.assign(document.createElement("li"), { textContent: line }));
  } else if (address === "/latentvj/error") {
    stats.errors.push(args[0]);
    const li = Object.assign(document.createElement("li"), { textContent: `now: ${args[0]}` });
    $("errors").prepend(li);
  } else if (address === "/latentvj/midi/learning") {
    $("learn-hint").hidden = false;
    $("learn-hint").textContent = `MIDI learn: ${args.join(" ")}`;
  }
}

// A preset loads at once, or morphs over the seconds beside the list; a show cuts in, or fades in
// over the seconds beside the show list (the daemon checks the ranges and says why it refuses).
function withSeconds(address, name, id) {
  const seconds = Number($(id).value);
  if (seconds > 0) send(address, [name, seconds], "sf");
  else send(address, [name], "s");
}
const loadPreset = (name) => withSeconds("/latentvj/preset/load", name, "preset-morph");
const switchShow = (spec) => withSeconds("/latentvj/show", spec, "show-fade");

function item(label, action, onClick) {
  const li = document.createElement("li");
  const span = Object.assign(document.createElement("span"), { textContent: label });
  const b = Object.assign(document.createElement("button"), { textContent: action });
  b.addEventListener("click", onClick);
  li.append(span, b);
  return li;
}

// ---- the WebSocket ---------------------------------------------------------------------------
const ALWAYS = ["/latentvj/preview", "/latentvj/latent", "/latentvj/status", "/latentvj/beat", "/latentvj/info/show",
  "/latentvj/info/shows", "/latentvj/info/presets", "/latentvj/info/input", "/latentvj/info/errors",
  ...["beat", "kick", "snare", "hat"].map((e) => `/latentvj/onset/${e}`)];

function connect() {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  ws = new WebSocket(withToken(`${proto}//${location.host}/`));
  ws.binaryType = "arraybuffer";
  ws.onopen = () => {
    stats.connected = true;
    $("conn").textContent = "live";
    $("conn").className = "ok";
    for (const a of [...ALWAYS, ...listening]) ws.send(JSON.stringify({ COMMAND: "LISTEN", DATA: a }));
  };
  ws.onmessage = (ev) => {
    if (typeof ev.data === "string") {
      const cmd = JSON.parse(ev.data);
      if (cmd.COMMAND === "PATH_CHANGED") loadTree();
      return;
    }
    try { received(decode(ev.data)); } catch (e) { console.warn("bad OSC from the daemon", e); }
  };
  ws.onclose = () => {
    stats.connected = false;
    $("conn").textContent = "reconnecting…";
    $("conn").className = "bad";
    setTimeout(connect, 1000);
  };
}

$("learn").addEventListener("change", () => {
  document.body.classList.toggle("learning", $("learn").checked);
  $("learn-hint").hidden = !$("learn").checked;
});
$("preset-save").addEventListener("submit", (ev) => {
  ev.preventDefault();
  send("/latentvj/preset/save", [$("preset-name").value], "s");
});

loadTree().then(connect, (e) => { $("conn").textContent = `cannot read the daemon's tree: ${e}`; });
