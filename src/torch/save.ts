/**
 * Writes a state dict as torch.save does since torch 1.6 (a zip holding data.pkl, one file per storage and
 * version), so `model.load_state_dict(torch.load(FILE))` takes it in PyTorch. Tensors are float32, contiguous, one
 * storage each; the pickle is protocol 2 and uses only what torch's unpickler expects of a state dict.
 */
import { crc32 } from "node:zlib";
import type { StateDict } from "./checkpoint";

/** A pickle of a plain dict of float32 tensors, each rebuilt by torch._utils._rebuild_tensor_v2 from storage `i`. */
function pickleStateDict(names: string[], shapes: number[][]): Uint8Array {
  const out: number[] = [];
  const byte = (...b: number[]) => out.push(...b);
  const text = (s: string) => out.push(...new TextEncoder().encode(s));
  const unicode = (s: string) => {
    const utf8 = new TextEncoder().encode(s);
    byte(0x58, utf8.length & 0xff, (utf8.length >> 8) & 0xff, (utf8.length >> 16) & 0xff, utf8.length >>> 24);
    out.push(...utf8);
  };
  const int = (v: number) => {
    if (!Number.isInteger(v) || v < 0 || v > 0x7fffffff) throw new Error(`cannot pickle ${v} as a 32-bit integer`);
    byte(0x4a, v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >>> 24);
  };
  const global = (module: string, name: string) => {
    byte(0x63);
    text(`${module}\n${name}\n`);
  };
  const MARK = 0x28;
  const TUPLE = 0x74;
  byte(0x80, 2, 0x7d, MARK);
  names.forEach((name, i) => {
    const shape = shapes[i];
    const numel = shape.reduce((a, b) => a * b, 1);
    const strides = shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));
    unicode(name);
    global("torch._utils", "_rebuild_tensor_v2");
    byte(MARK);
    // Persistent id ('storage', storage type, key, location, numel), resolved by torch against data/<key>.
    byte(MARK);
    unicode("storage");
    global("torch", "FloatStorage");
    unicode(String(i));
    unicode("cpu");
    int(numel);
    byte(TUPLE, 0x51);
    int(0);
    byte(MARK);
    shape.forEach(int);
    byte(TUPLE, MARK);
    strides.forEach(int);
    byte(TUPLE, 0x89);
    global("collections", "OrderedDict");
    byte(0x29, 0x52, TUPLE, 0x52);
  });
  byte(0x75, 0x2e);
  return Uint8Array.from(out);
}

/** A zip of stored (uncompressed) entries, as torch's reader takes them. */
function zip(entries: { name: string; data: Uint8Array }[]): Uint8Array {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const { name, data } of entries) {
    const nameBytes = new TextEncoder().encode(name);
    const crc = crc32(data);
    const local = new DataView(new ArrayBuffer(30));
    local.setUint32(0, 0x04034b50, true);
    local.setUint16(4, 20, true);
    local.setUint32(14, crc, true);
    local.setUint32(18, data.length, true);
    local.setUint32(22, data.length, true);
    local.setUint16(26, nameBytes.length, true);
    const dir = new DataView(new ArrayBuffer(46));
    dir.setUint32(0, 0x02014b50, true);
    dir.setUint16(4, 20, true);
    dir.setUint16(6, 20, true);
    dir.setUint32(16, crc, true);
    dir.setUint32(20, data.length, true);
    dir.setUint32(24, data.length, true);
    dir.setUint16(28, nameBytes.length, true);
    dir.setUint32(42, offset, true);
    parts.push(new Uint8Array(local.buffer), nameBytes, data);
    central.push(new Uint8Array(dir.buffer), nameBytes);
    offset += 30 + nameBytes.length + data.length;
  }
  const size = central.reduce((n, c) => n + c.length, 0);
  if (offset + size > 0xffffffff) throw new Error("the state dict is larger than 4 GiB, more than a zip without ZIP64 holds");
  const end = new DataView(new ArrayBuffer(22));
  end.setUint32(0, 0x06054b50, true);
  end.setUint16(8, entries.length, true);
  end.setUint16(10, entries.length, true);
  end.setUint32(12, size, true);
  end.setUint32(16, offset, true);
  const all = [...parts, ...central, new Uint8Array(end.buffer)];
  const bytes = new Uint8Array(all.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of all) {
    bytes.set(p, at);
    at += p.length;
  }
  return bytes;
}

/**
 * The bytes of torch.save(state_dict) for these tensors, under the archive folder `name` (torch uses the file's
 * stem). BatchNorm's num_batches_tracked counters are left out: torch fills them in when it loads a state dict
 * without version metadata, as for every checkpoint saved before they existed.
 */
export function encodeTorchStateDict(stateDict: StateDict, name: string): Uint8Array {
  const kept = [...stateDict].filter(([key]) => !key.endsWith(".num_batches_tracked"));
  const data = kept.map(([key, t]) => {
    const numel = t.shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== numel) throw new Error(`tensor ${key}: ${t.data.length} values do not fill shape [${t.shape.join(", ")}]`);
    return new Uint8Array(t.data.buffer.slice(t.data.byteOffset, t.data.byteOffset + t.data.byteLength));
  });
  const folder = name.replace(/[^\w.-]/g, "_");
  return zip([
    { name: `${folder}/data.pkl`, data: pickleStateDict(kept.map(([k]) => k), kept.map(([, t]) => t.shape)) },
    ...data.map((d, i) => ({ name: `${folder}/data/${i}`, data: d })),
    { name: `${folder}/version`, data: new TextEncoder().encode("3\n") },
  ]);
}
