import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { sha256File } from "../../src/artifacts/checksum";

describe("sha256File", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "decomp-sha-"));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("matches the FIPS 180-2 test vectors", async () => {
    fs.writeFileSync(path.join(dir, "abc"), "abc");
    fs.writeFileSync(path.join(dir, "empty"), "");
    expect(await sha256File(path.join(dir, "abc"))).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(await sha256File(path.join(dir, "empty"))).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  });

  it("streams a multi-chunk file to the same digest as hashing it whole, reporting byte progress", async () => {
    const data = randomBytes(3 * (1 << 20) + 123);
    const file = path.join(dir, "big");
    fs.writeFileSync(file, data);
    const events: number[] = [];
    const digest = await sha256File(file, (e) => events.push(e.done));
    expect(digest).toBe(createHash("sha256").update(data).digest("hex"));
    expect(events.length).toBeGreaterThan(1);
    expect(events[events.length - 1]).toBe(data.length);
  });
});
