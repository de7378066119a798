/** A small reader for (gzipped) POSIX tar archives held in memory: enough for the CIFAR-10 archives, not a general tool. */
import { promisify } from "node:util";
import { gunzip } from "node:zlib";

export interface TarEntry {
  /** Path inside the archive, as stored (e.g. "package/test_batch.png"). */
  name: string;
  /** A view into the archive buffer, not a copy. */
  data: Uint8Array;
}

const BLOCK = 512;
const decoder = new TextDecoder();

function text(block: Uint8Array, start: number, length: number): string {
  const field = block.subarray(start, start + length);
  const end = field.indexOf(0);
  return decoder.decode(end === -1 ? field : field.subarray(0, end));
}

function octal(block: Uint8Array, start: number, length: number, what: string): number {
  if (block[start] & 0x80) throw new Error(`tar: base-256 ${what} fields are not supported`);
  const s = text(block, start, length).trim();
  const n = s === "" ? 0 : parseInt(s, 8);
  if (!Number.isFinite(n)) throw new Error(`tar: bad ${what} field "${s}"`);
  return n;
}

/** The header checksum sums all 512 bytes with the checksum field itself read as spaces. */
function checksumOk(block: Uint8Array): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i];
  return sum === octal(block, 148, 8, "checksum");
}

/** pax extended headers are "<len> key=value\n" records; only `path` matters here. */
function paxPath(data: Uint8Array): string | undefined {
  const records = decoder.decode(data);
  let pos = 0;
  while (pos < records.length) {
    const space = records.indexOf(" ", pos);
    const len = parseInt(records.slice(pos, space), 10);
    if (!(len > 0)) break;
    const record = records.slice(space + 1, pos + len - 1);
    if (record.startsWith("path=")) return record.slice(5);
    pos += len;
  }
  return undefined;
}

/** Regular files of an uncompressed tar archive, in archive order. */
export function readTar(archive: Uint8Array): TarEntry[] {
  const entries: TarEntry[] = [];
  let offset = 0;
  let longName: string | undefined;
  while (offset + BLOCK <= archive.length) {
    const header = archive.subarray(offset, offset + BLOCK);
    if (header.every((b) => b === 0)) break;
    if (!checksumOk(header)) throw new Error(`tar: bad header checksum at byte ${offset}; the archive is corrupt or not a tar file`);
    const size = octal(header, 124, 12, "size");
    const type = String.fromCharCode(header[156] || 0x30);
    const dataStart = offset + BLOCK;
    if (dataStart + size > archive.length) throw new Error(`tar: entry at byte ${offset} runs past the end of the archive (truncated?)`);
    const data = archive.subarray(dataStart, dataStart + size);
    offset = dataStart + Math.ceil(size / BLOCK) * BLOCK;

    if (type === "L") {
      longName = text(data, 0, data.length);
    } else if (type === "x") {
      longName = paxPath(data) ?? longName;
    } else if (type === "0" || type === "7") {
      const magic = text(header, 257, 6);
      const prefix = magic.startsWith("ustar") ? text(header, 345, 155) : "";
      const stored = text(header, 0, 100);
      const name = longName ?? (prefix ? `${prefix}/${stored}` : stored);
      entries.push({ name, data });
      longName = undefined;
    } else {
      longName = undefined;
    }
  }
  return entries;
}

const gunzipAsync = promisify(gunzip);

/** Gunzips (off the main thread, via zlib's pool) and reads a .tar.gz. */
export async function readTarGz(gz: Uint8Array): Promise<TarEntry[]> {
  const tar = await gunzipAsync(gz);
  return readTar(new Uint8Array(tar.buffer, tar.byteOffset, tar.length));
}

/** The entry whose path ends with `/<basename>` (or equals it); a clear error names what the archive holds. */
export function entryByBasename(entries: TarEntry[], basename: string, archiveName: string): TarEntry {
  const found = entries.find((e) => e.name === basename || e.name.endsWith(`/${basename}`));
  if (!found) {
    const names = entries.map((e) => e.name).join(", ");
    throw new Error(`${archiveName} has no ${basename}; it holds: ${names}`);
  }
  return found;
}
