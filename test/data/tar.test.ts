import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { entryByBasename, readTar, readTarGz } from "../../src/data/tar";

/** Archives are made by GNU tar, an independent writer, in each header format the reader claims to handle. */
describe("tar reader", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "decomp-tar-"));
  const longDir = "d".repeat(60) + "/" + "e".repeat(50);
  const files: Record<string, Buffer> = {
    "top/a.txt": Buffer.from("alpha\n"),
    "top/empty.bin": Buffer.alloc(0),
    "top/block.bin": Buffer.alloc(512, 7),
    "top/odd.bin": Buffer.from(Array.from({ length: 1500 }, (_, i) => i % 251)),
    [`top/${longDir}/long-name-file.txt`]: Buffer.from("deep\n"),
  };
  const src = path.join(dir, "src");
  for (const [name, data] of Object.entries(files)) {
    fs.mkdirSync(path.join(src, path.dirname(name)), { recursive: true });
    fs.writeFileSync(path.join(src, name), data);
  }
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const make = (format: string, gzip = false) => {
    const out = path.join(dir, `${format}.tar${gzip ? ".gz" : ""}`);
    execFileSync("tar", [`--format=${format}`, gzip ? "-czf" : "-cf", out, "-C", src, "top"]);
    return new Uint8Array(fs.readFileSync(out));
  };
  const asMap = (entries: { name: string; data: Uint8Array }[]) =>
    Object.fromEntries(entries.map((e) => [e.name, Buffer.from(e.data).toString("hex")]));
  const expected = Object.fromEntries(Object.entries(files).map(([k, v]) => [k, v.toString("hex")]));

  it.each(["gnu", "ustar", "pax"])("reads every regular file of a %s archive, names and bytes exact", (format) => {
    expect(asMap(readTar(make(format)))).toEqual(expected);
  });

  it("reads a gzipped archive", async () => {
    expect(asMap(await readTarGz(make("pax", true)))).toEqual(expected);
  });

  it("finds entries by base name and says what the archive holds otherwise", () => {
    const entries = readTar(make("gnu"));
    expect(Buffer.from(entryByBasename(entries, "a.txt", "x.tar").data).toString()).toBe("alpha\n");
    expect(() => entryByBasename(entries, "missing.bin", "x.tar")).toThrow(/^x\.tar has no missing\.bin; it holds: .*top\/a\.txt/);
  });

  it("rejects a corrupt header and a truncated archive", () => {
    const corrupt = make("ustar").slice();
    corrupt[10] ^= 0x55;
    expect(() => readTar(corrupt)).toThrow(/bad header checksum at byte 0/);

    const single = path.join(dir, "single.tar");
    execFileSync("tar", ["--format=ustar", "-cf", single, "-C", src, "top/odd.bin"]);
    const truncated = new Uint8Array(fs.readFileSync(single)).subarray(0, 512 + 1000);
    expect(() => readTar(truncated)).toThrow(/entry at byte 0 runs past the end of the archive/);
  });
});
