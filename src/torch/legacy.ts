/**
 * The legacy torch.save format (before 1.6, or _use_new_zipfile_serialization=False): five pickles in a row
 * (magic number, protocol version, sys info, the object, the sorted storage keys), then for each storage
 * key an 8-byte little-endian element count followed by the raw little-endian elements.
 */
import { unsupportedCheckpoint } from "./errors";
import { unpickle } from "./pickle";
import { RawCheckpoint, StorageRef, torchPickleHooks } from "./rebuild";

const MAGIC_NUMBER = 0x1950a86a20f9469cfc6cn;
const PROTOCOL_VERSION = 1001;

/** Legacy files start with a binary pickle (PROTO opcode); the magic number check follows in the reader. */
export function looksLikeLegacy(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x80;
}

export function readLegacyCheckpoint(bytes: Uint8Array): RawCheckpoint {
  const noGlobals = { findClass: () => undefined };
  const magic = unpickle(bytes, noGlobals, 0);
  if (magic.value !== MAGIC_NUMBER) {
    throw unsupportedCheckpoint("legacy magic number 0x1950a86a20f9469cfc6c not found (a plain pickle, not torch.save?)");
  }
  const protocol = unpickle(bytes, noGlobals, magic.end);
  if (protocol.value !== PROTOCOL_VERSION) {
    throw unsupportedCheckpoint(`legacy protocol version ${String(protocol.value)} (expected ${PROTOCOL_VERSION})`);
  }
  const sysInfo = unpickle(bytes, noGlobals, protocol.end);
  if (sysInfo.value instanceof Map && sysInfo.value.get("little_endian") === false) {
    throw unsupportedCheckpoint("big-endian legacy checkpoint");
  }

  const storages = new Map<string, StorageRef>();
  const main = unpickle(bytes, torchPickleHooks(storages), sysInfo.end);
  const keys = unpickle(bytes, noGlobals, main.end);
  if (!Array.isArray(keys.value)) throw unsupportedCheckpoint("legacy storage key list missing");

  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const storageData = new Map<string, Float32Array>();
  let pos = keys.end;
  for (const key of keys.value) {
    const ref = storages.get(String(key));
    if (!ref) throw unsupportedCheckpoint(`legacy storage ${String(key)} is not used by any tensor`);
    if (pos + 8 > bytes.length) throw unsupportedCheckpoint(`legacy storage ${ref.key} truncated`);
    const count = Number(view.getBigInt64(pos, true));
    pos += 8;
    const end = pos + count * ref.dtype.bytesPerElement;
    if (count < ref.numel || end > bytes.length) throw unsupportedCheckpoint(`legacy storage ${ref.key} truncated`);
    storageData.set(ref.key, ref.dtype.decode(bytes.subarray(pos, end), count));
    pos = end;
  }
  return { root: main.value, storageData };
}
