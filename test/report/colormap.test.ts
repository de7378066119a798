import { overlayMap, VIRIDIS, viridis } from "../../src/report/colormap";

describe("viridis", () => {
  it("has matplotlib's published first, middle and last colours", () => {
    expect(VIRIDIS).toHaveLength(256 * 3);
    expect(viridis(0)).toEqual([0x44, 0x01, 0x54]);
    expect(Array.from(VIRIDIS.subarray(128 * 3, 129 * 3))).toEqual([0x21, 0x91, 0x8c]);
    expect(viridis(1)).toEqual([0xfd, 0xe7, 0x25]);
    expect(viridis(-3)).toEqual(viridis(0));
    expect(viridis(NaN)).toEqual(viridis(0));
  });

  it("grows monotonically brighter (green rises over the whole map)", () => {
    for (let i = 1; i < 256; i++) expect(VIRIDIS[i * 3 + 1]).toBeGreaterThanOrEqual(VIRIDIS[(i - 1) * 3 + 1]);
  });
});

describe("overlay", () => {
  // Two pixels: white and black; map 0 then 1.
  const rgb = Uint8Array.from([255, 255, 255, 0, 0, 0]);

  it("writes R, G, B, A in that order, blending image and colour by alpha", () => {
    const full = overlayMap(rgb, 2, 1, [0, 1], 1);
    expect(Array.from(full.data)).toEqual([0x44, 0x01, 0x54, 255, 0xfd, 0xe7, 0x25, 255]);
    expect(Array.from(overlayMap(rgb, 2, 1, [0, 1], 0).data)).toEqual([255, 255, 255, 255, 0, 0, 0, 255]);
    const half = overlayMap(rgb, 2, 1, [0, 1], 0.5);
    expect(Array.from(half.data.subarray(0, 3))).toEqual([Math.round(127.5 + 34), 128, Math.round(127.5 + 42)]);
  });

  it("refuses a map of another size and an alpha outside [0, 1]", () => {
    expect(() => overlayMap(rgb, 2, 1, [0], 0.5)).toThrow("upsample the map first");
    expect(() => overlayMap(rgb, 2, 1, [0, 1], 1.5)).toThrow("alpha must lie in [0, 1], got 1.5");
  });
});
