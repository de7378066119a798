/**
 * A minimal zip reader (central directory, stored and deflated entries, archives under 4 GiB with any number of
 * entries): torch's checkpoints and dataset archives such as Tiny ImageNet's. Problems are reported through the
 * caller's error factory, so each format words them its own way.
 */
import { inflateRawSync } from "node:zlib";

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
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

  constructor(private readonly bytes: Uint8Array, private readonly fail: (what: string) => Error = (what) => new Error(what)) {
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
    throw this.fail("zip end-of-central-directory record not found (file truncated?)");
  }

  /** Entry count and central directory offset, from the zip64 end record where the classic one overflows (over 65,535 entries). */
  private directory(eocd: number): { count: number; offset: number } {
    const count = this.u16(eocd + 10);
    const offset = this.u32(eocd + 16);
    if (count !== 0xffff && offset !== 0xffffffff) return { count, offset };
    const locator = eocd - 20;
    if (locator < 0 || this.u32(locator) !== ZIP64_LOCATOR) throw this.fail("zip64 end record locator not found (file damaged?)");
    const record = Number(this.view.getBigUint64(locator + 8, true));
    if (record + 56 > this.bytes.length || this.u32(record) !== ZIP64_EOCD) throw this.fail("zip64 end record is damaged");
    const total = Number(this.view.getBigUint64(record + 32, true));
    const at = Number(this.view.getBigUint64(record + 48, true));
    if (at > 0xffffffff) throw this.fail("zip archive over 4 GiB");
    return { count: total, offset: at };
  }

  private readCentralDirectory(): void {
    const { count, offset: first } = this.directory(this.findEndOfCentralDirectory());
    let offset = first;
    for (let i = 0; i < count; i++) {
      if (offset + 46 > this.bytes.length || this.u32(offset) !== CENTRAL_ENTRY) {
        throw this.fail(`zip central directory entry ${i} is damaged`);
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
        throw this.fail(`zip64 entry ${name} (over 4 GiB)`);
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
    if (!entry) throw this.fail(`zip entry ${name} is missing`);
    const header = entry.localHeaderOffset;
    if (this.u32(header) !== LOCAL_HEADER) throw this.fail(`zip entry ${name} has a damaged header`);
    // The local header's extra field can differ from the central one (torch pads it to align data).
    const start = header + 30 + this.u16(header + 26) + this.u16(header + 28);
    if (start + entry.compressedSize > this.bytes.length) throw this.fail(`zip entry ${name} is truncated`);
    const raw = this.bytes.subarray(start, start + entry.compressedSize);
    if (entry.method === 0) return raw;
    if (entry.method === 8) return new Uint8Array(inflateRawSync(raw));
    throw this.fail(`zip entry ${name} uses compression method ${entry.method}`);
  }
}
