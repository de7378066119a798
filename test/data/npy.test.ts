/** .npy reading and writing against files NumPy wrote (scripts/make-npy-fixtures.py). */
import * as fs from "node:fs";
import * as path from "node:path";
import { decodeNpy, encodeNpy } from "../../src/data/npy";

const dir = path.join(__dirname, "..", "fixtures", "npy");
const fixture = JSON.parse(fs.readFileSync(path.join(dir, "cases.json"), "utf8")) as { cases: Record<string, { shape: number[]; values: number[] }> };
const read = (name: string) => new Uint8Array(fs.readFileSync(path.join(dir, `${name}.npy`)));

describe(".npy files", () => {
  it.each(Object.keys(fixture.cases))("reads NumPy's %s with its shape and values", (name) => {
    const { shape, values } = fixture.cases[name];
    const array = decodeNpy(read(name), name);
    expect(array.shape).toEqual(shape);
    expect(array.data).toEqual(Float32Array.from(values));
  });

  it.each(["writer_logits", "writer_vector"])("writes %s byte for byte as numpy.save does", (name) => {
    const numpyBytes = read(name);
    const { shape, data } = decodeNpy(numpyBytes);
    expect(Buffer.from(encodeNpy({ shape, data }))).toEqual(Buffer.from(numpyBytes));
  });

  it("round-trips shapes of every rank, the header ending on a 64-byte boundary", () => {
    for (const shape of [[], [0], [7], [2, 3], [1, 3, 32, 32], [2, 1, 1, 1, 5]]) {
      const count = shape.reduce((a, b) => a * b, 1);
      const data = Float32Array.from({ length: count }, (_, i) => i / 3 - 1);
      const bytes = encodeNpy({ shape, data });
      const headerEnd = 10 + new DataView(bytes.buffer).getUint16(8, true);
      expect(headerEnd % 64).toBe(0);
      expect(decodeNpy(bytes)).toEqual({ shape, data });
    }
  });

  it("refuses what it cannot read with what to do instead", () => {
    expect(() => decodeNpy(read("refuse_fortran"), "f.npy")).toThrow("f.npy is stored in Fortran order; save numpy.ascontiguousarray(x) instead");
    expect(() => decodeNpy(read("refuse_bigendian"), "b.npy")).toThrow("b.npy holds dtype '>f4', which this reader does not take; save x.astype(numpy.float32)");
    expect(() => decodeNpy(read("refuse_complex"), "c.npy")).toThrow("holds dtype '<c8'");
    expect(() => decodeNpy(new TextEncoder().encode("not numpy at all"), "t.npy")).toThrow("t.npy is not a NumPy .npy file");
    const whole = read("f4_nchw");
    expect(() => decodeNpy(whole.subarray(0, whole.length - 4), "cut.npy")).toThrow("cut.npy is truncated: shape (2, 3, 4, 5) of '<f4' needs 608 bytes, the file has 604");
    expect(() => encodeNpy({ shape: [2, 2], data: new Float32Array(3) })).toThrow("holds 4 values but the data has 3");
  });
});
