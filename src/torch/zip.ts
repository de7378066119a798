/** The zip checkpoint format of torch >= 1.6: <folder>/data.pkl plus one file per storage in <folder>/data/. */
import { unsupportedCheckpoint } from "./errors";
import { unpickle } from "./pickle";
import { RawCheckpoint, StorageRef, torchPickleHooks } from "./rebuild";
import { ZipArchive } from "../artifacts/zip-archive";

export function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
}

export function readZipCheckpoint(bytes: Uint8Array): RawCheckpoint {
  const archive = new ZipArchive(bytes, unsupportedCheckpoint);
  // torch names the top folder after the file it saved to, so find it through data.pkl.
  const pickleName = [...archive.entries.keys()].find((name) => name === "data.pkl" || name.endsWith("/data.pkl"));
  if (!pickleName) throw unsupportedCheckpoint("zip archive without data.pkl");
  const prefix = pickleName.slice(0, pickleName.length - "data.pkl".length);
  if (archive.has(`${prefix}byteorder`)) {
    const order = new TextDecoder().decode(archive.read(`${prefix}byteorder`)).trim();
    if (order !== "little") throw unsupportedCheckpoint(`byte order '${order}'`);
  }

  const storages = new Map<string, StorageRef>();
  const { value: root } = unpickle(archive.read(pickleName), torchPickleHooks(storages));
  const storageData = new Map<string, Float32Array>();
  for (const ref of storages.values()) {
    const raw = archive.read(`${prefix}data/${ref.key}`);
    const needed = ref.numel * ref.dtype.bytesPerElement;
    if (raw.length < needed) throw unsupportedCheckpoint(`storage ${ref.key} has ${raw.length} bytes, needs ${needed}`);
    storageData.set(ref.key, ref.dtype.decode(raw, ref.numel));
  }
  return { root, storageData };
}
