// OSC 1.0 messages to and from ArrayBuffers: what the daemon's WebSocket carries (binary frames).
// encode: i (int32), f (float32), d (float64), s (string), what the page sends.
// decode: those, and b (blob), T, F, N, what the daemon sends.

const enc = new TextEncoder();
const dec = new TextDecoder();
const pad4 = (n) => (n + 3) & ~3;

function str(s) {
  const b = enc.encode(s);
  const out = new Uint8Array(pad4(b.length + 1));
  out.set(b);
  return out;
}

export function encode(address, args = [], types = null) {
  // types: one letter per argument; by default f for numbers and s for strings
  types = types || args.map((a) => (typeof a === "string" ? "s" : "f"));
  const parts = [str(address), str("," + types)];
  args.forEach((a, k) => {
    const t = types[k];
    if (!"ifds".includes(t) || t.length !== 1) throw new Error(`OSC type ${t} cannot be sent from the page`);
    if (t === "s") { parts.push(str(a)); return; }
    const b = new DataView(new ArrayBuffer(t === "d" ? 8 : 4));
    if (t === "i") b.setInt32(0, a);
    else if (t === "d") b.setFloat64(0, a);
    else b.setFloat32(0, a);
    parts.push(new Uint8Array(b.buffer));
  });
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out.buffer;
}

function readString(view, o) {
  let end = o;
  while (end < view.byteLength && view.getUint8(end) !== 0) end++;
  const s = dec.decode(new Uint8Array(view.buffer, view.byteOffset + o, end - o));
  return [s, pad4(end + 1)];
}

export function decode(buffer) {
  const view = new DataView(buffer);
  let [address, o] = readString(view, 0);
  let types = "";
  if (o < view.byteLength) [types, o] = readString(view, o);
  const args = [];
  for (const t of types.slice(1)) {
    if (t === "i") { args.push(view.getInt32(o)); o += 4; }
    else if (t === "f") { args.push(view.getFloat32(o)); o += 4; }
    else if (t === "d") { args.push(view.getFloat64(o)); o += 8; }
    else if (t === "s") { let s; [s, o] = readString(view, o); args.push(s); }
    else if (t === "b") {
      const n = view.getInt32(o);
      args.push(new Uint8Array(buffer, o + 4, n));
      o = pad4(o + 4 + n);
    } else if (t === "T") args.push(true);
    else if (t === "F") args.push(false);
    else if (t === "N") args.push(null);
    else throw new Error(`OSC type ${t} not understood`);
  }
  return { address, args };
}
