import { halfToNumber, requireStorageDtype } from "../../src/torch/dtypes";

describe("halfToNumber", () => {
  test.each([
    [0x3c00, 1],
    [0xc000, -2],
    [0x7bff, 65504],
    [0x0001, 2 ** -24],
    [0x0400, 2 ** -14],
    [0x7c00, Infinity],
    [0xfc00, -Infinity],
  ])("bits %d -> %s", (bits, value) => {
    expect(halfToNumber(bits)).toBe(value);
  });

  test("NaN and negative zero", () => {
    expect(halfToNumber(0x7e00)).toBeNaN();
    expect(Object.is(halfToNumber(0x8000), -0)).toBe(true);
  });
});

describe("storage decoding", () => {
  test("little-endian elements of each dtype become Float32", () => {
    const le = (values: number[], Array: new (v: number[]) => ArrayBufferView) =>
      new Uint8Array((new Array(values) as ArrayBufferView).buffer);
    expect(Array.from(requireStorageDtype("IntStorage").decode(le([-5, 7], Int32Array), 2))).toEqual([-5, 7]);
    expect(Array.from(requireStorageDtype("DoubleStorage").decode(le([0.1, 3], Float64Array), 2))).toEqual([
      Math.fround(0.1),
      3,
    ]);
    const longs = new Uint8Array(new BigInt64Array([-3n, 1n << 40n]).buffer);
    expect(Array.from(requireStorageDtype("LongStorage").decode(longs, 2))).toEqual([-3, 2 ** 40]);
    // bfloat16 0x3fc0 is the top half of float32 1.5.
    expect(Array.from(requireStorageDtype("BFloat16Storage").decode(new Uint8Array([0xc0, 0x3f]), 1))).toEqual([1.5]);
  });

  test("decoding reads from an unaligned offset inside a larger buffer", () => {
    const buffer = new Uint8Array(9);
    buffer.set(new Uint8Array(new Float32Array([2.5, -1]).buffer), 1);
    expect(Array.from(requireStorageDtype("FloatStorage").decode(buffer.subarray(1), 2))).toEqual([2.5, -1]);
  });

  test("unknown dtypes are named", () => {
    expect(() => requireStorageDtype("QInt8Storage")).toThrow(/unsupported dtype torch\.QInt8Storage/);
  });
});
