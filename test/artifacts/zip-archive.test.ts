/** The zip reader against Python's zipfile: stored and deflated entries, and an archive past 65,535 entries (zip64 end records). */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ZipArchive } from "../../src/artifacts/zip-archive";

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "decomp-zip-"));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

function pythonZip(file: string, script: string): Uint8Array {
  execFileSync("/usr/bin/python3", ["-c", `import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1], "w")\n${script}\nz.close()`, file]);
  return fs.readFileSync(file);
}

describe("ZipArchive", () => {
  it("reads stored and deflated entries as Python wrote them", () => {
    const bytes = pythonZip(path.join(scratch, "small.zip"), `z.writestr("a/stored.txt", "plain bytes", compress_type=zipfile.ZIP_STORED)
z.writestr("a/deflated.txt", "repeat " * 1000, compress_type=zipfile.ZIP_DEFLATED)`);
    const zip = new ZipArchive(bytes);
    expect([...zip.entries.keys()]).toEqual(["a/stored.txt", "a/deflated.txt"]);
    expect(Buffer.from(zip.read("a/stored.txt")).toString()).toBe("plain bytes");
    expect(Buffer.from(zip.read("a/deflated.txt")).toString()).toBe("repeat ".repeat(1000));
    expect(zip.entries.get("a/deflated.txt")!.compressedSize).toBeLessThan(7000);
  });

  it("reads an archive of 70,000 entries through its zip64 end records", () => {
    const bytes = pythonZip(path.join(scratch, "many.zip"), `for i in range(70000):
    z.writestr(f"f/{i}", str(i))`);
    // The classic end record says 0xffff entries: the count and offset come from the zip64 record.
    expect(Buffer.from(bytes).readUInt16LE(bytes.length - 22 + 10)).toBe(0xffff);
    const zip = new ZipArchive(bytes);
    expect(zip.entries.size).toBe(70000);
    expect(Buffer.from(zip.read("f/69999")).toString()).toBe("69999");
  });

  it("reports a damaged archive through the caller's error factory", () => {
    const bytes = pythonZip(path.join(scratch, "cut.zip"), `z.writestr("x", "y")`);
    expect(() => new ZipArchive(bytes.subarray(0, bytes.length - 30), (what) => new Error(`cut.zip: ${what}`))).toThrow("cut.zip: zip end-of-central-directory record not found (file truncated?)");
  });
});
