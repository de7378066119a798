/** A minimal zip reader (central directory, stored and deflated entries) for torch archives under 4 GiB. */
import { inflateRawSync } from "node:zlib";
import { unsupportedCheckpoint } from "./errors";

const EOCD = 0x06054b50;
const CENTRAL_ENTRY = 0x02014b50;
const LOCAL_HEADER = 0x04034b50;

export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

export class ZipArchive {
  private readonly view: DataView;
  readonly entries = new Map<string, ZipEntry>();

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.readCentralDirectory();
  }

  private u16(at: number): number {
    return this.view.getUint16(at, true);
  }

  private u32(at: number): number {
    return this.view.getUint32(at, true);
  }

  private findEndOfCentralDirectory(): number {
    // The end record is 22 bytes plus a comment of at most 65535 bytes.
    const lowest = Math.max(0, this.bytes.length - 22 - 0xffff);
    for (let at = this.bytes.length - 22; at >= lowest; at--) {
      if (this.u32(at) === EOCD) return at;
    }
    throw unsupportedCheckpoint("zip end-of-central-directory record not found (file truncated?)");
  }

  private readCentralDirectory(): void {
    const eocd = this.findEndOfCentralDirectory();
    const count = this.u16(eocd + 10);
    let offset = this.u32(eocd + 16);
    if (offset === 0xffffffff || count === 0xffff) throw unsupportedCheckpoint("zip64 archive (over 4 GiB or 65535 entries)");
    for (let i = 0; i < count; i++) {
      if (offset + 46 > this.bytes.length || this.u32(offset) !== CENTRAL_ENTRY) {
        throw unsupportedCheckpoint(`zip central directory entry ${i} is damaged`);
      }
      const nameLength = this.u16(offset + 28);
      const extraLength = this.u16(offset + 30);
      const commentLength = this.u16(offset + 32);
      const name = new TextDecoder().decode(this.bytes.subarray(offset + 46, offset + 46 + nameLength));
      const entry: ZipEntry = {
        name,
        method: this.u16(offset + 10),
        compressedSize: this.u32(offset + 20),
        size: this.u32(offset + 24),
        localHeaderOffset: this.u32(offset + 42),
      };
      if (entry.size === 0xffffffff || entry.compressedSize === 0xffffffff || entry.localHeaderOffset === 0xffffffff) {
        throw unsupportedCheckpoint(`zip64 entry ${name} (over 4 GiB)`);
      }
      this.entries.set(name, entry);
      offset += 46 + nameLength + extraLength + commentLength;
    }
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** The entry's bytes; stored entries are views into the archive, deflated ones are inflated copies. */
  read(name: string): Uint8Array {
    const entry = this.entries.get(name);
    if (!entry) throw unsupportedCheckpoint(`zip entry ${name} is missing`);
    const header = entry.localHeaderOffset;
    if (this.u32(header) !== LOCAL_HEADER) throw unsupportedCheckpoint(`zip entry ${name} has a damaged header`);
    // The local header's extra field can differ from the central one (torch pads it to align data).
    const start = header + 30 + this.u16(header + 26) + this.u16(header + 28);
    if (start + entry.compressedSize > this.bytes.length) throw unsupportedCheckpoint(`zip entry ${name} is truncated`);
    const raw = this.bytes.subarray(start, start + entry.compressedSize);
    if (entry.method === 0) return raw;
    if (entry.method === 8) return new Uint8Array(inflateRawSync(raw));
    throw unsupportedCheckpoint(`zip entry ${name} uses compression method ${entry.method}`);
  }
}
