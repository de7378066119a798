import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { writeFileAtomic } from "../../src/artifacts/atomic-write";

describe("writeFileAtomic", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "decomp-atomic-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const bytes = (s: string) => new TextEncoder().encode(s);

  it("writes all chunks, creating the folder", async () => {
    const dest = path.join(dir, "sub", "out.bin");
    await writeFileAtomic(dest, [bytes("hello "), bytes("world")]);
    expect(fs.readFileSync(dest, "utf8")).toBe("hello world");
    expect(fs.readdirSync(path.dirname(dest))).toEqual(["out.bin"]);
  });

  it("leaves no partial or temp file when the source throws halfway", async () => {
    const dest = path.join(dir, "out.bin");
    async function* broken() {
      yield bytes("first half");
      throw new Error("connection reset");
    }
    await expect(writeFileAtomic(dest, broken())).rejects.toThrow("connection reset");
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it("keeps the previous file and removes the temp file when verification fails", async () => {
    const dest = path.join(dir, "out.bin");
    fs.writeFileSync(dest, "old");
    const verify = async (temp: string) => {
      expect(fs.readFileSync(temp, "utf8")).toBe("new");
      throw new Error("checksum mismatch");
    };
    await expect(writeFileAtomic(dest, [bytes("new")], { verify })).rejects.toThrow("checksum mismatch");
    expect(fs.readdirSync(dir)).toEqual(["out.bin"]);
    expect(fs.readFileSync(dest, "utf8")).toBe("old");
  });
});
