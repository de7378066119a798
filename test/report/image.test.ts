import { PNG } from "pngjs";
import { composeRows, encodePng, mapGrid, pngBundle, solidImage, upscaleRgb } from "../../src/report/image";

describe("report images", () => {
  it("tiles maps with per-map contrast stretch", () => {
    // Two 2x1 maps, scale 1, gap 1: image is 2 maps wide -> 2*2 + 3 gaps = 7 px, 1 + 2 = 3 px high.
    const grid = mapGrid([[0, 10], [-5, -7]], 2, 1, { columns: 2, scale: 1, gap: 1 });
    expect([grid.width, grid.height]).toEqual([7, 3]);
    const red = (x: number, y: number) => grid.data[(y * grid.width + x) * 4];
    expect([red(1, 1), red(2, 1)]).toEqual([0, 255]);
    expect([red(4, 1), red(5, 1)]).toEqual([255, 0]);
    expect(red(0, 0)).toBe(255); // gap stays background
  });

  it("scales each map pixel to a block", () => {
    const grid = mapGrid([[1, 2, 3, 4]], 2, 2, { scale: 3, gap: 0 });
    expect([grid.width, grid.height]).toEqual([6, 6]);
    const red = (x: number, y: number) => grid.data[(y * 6 + x) * 4];
    expect([red(0, 0), red(2, 2), red(3, 0), red(0, 3), red(5, 5)]).toEqual([0, 0, 85, 170, 255]);
  });

  it("encodes PNGs that decode to the same pixels", () => {
    const grid = mapGrid([[0, 1, 2, 3], [3, 2, 1, 0], [5, 5, 5, 9]], 2, 2);
    const decoded = PNG.sync.read(encodePng(grid));
    expect([decoded.width, decoded.height]).toEqual([grid.width, grid.height]);
    expect(Buffer.from(decoded.data).equals(Buffer.from(grid.data))).toBe(true);
    const bundle = pngBundle(grid, "three maps");
    expect(PNG.sync.read(Buffer.from(bundle["image/png"] as string, "base64")).width).toBe(grid.width);
    expect(bundle["text/plain"]).toBe(`PNG ${grid.width}x${grid.height}: three maps`);
  });

  it("rejects inconsistent sizes with the expected count", () => {
    expect(() => mapGrid([[1, 2, 3]], 2, 2)).toThrow("map 0 has 3 values, expected 2x2 = 4");
    expect(() => encodePng({ width: 2, height: 2, data: new Uint8Array(3) })).toThrow("needs 16 bytes, got 3");
    expect(() => mapGrid([], 2, 2)).toThrow(/at least one map/);
  });

  it("uses one shared, clamped scale when a range is given", () => {
    const grid = mapGrid([[0, 1], [2, 4]], 2, 1, { columns: 2, scale: 1, gap: 0, range: { lo: 0, hi: 2 } });
    const red = (x: number) => grid.data[x * 4];
    expect([red(0), red(1), red(2), red(3)]).toEqual([0, 128, 255, 255]);
    expect(() => mapGrid([[1]], 1, 1, { range: { lo: 1, hi: 0 } })).toThrow("mapGrid range needs hi >= lo, got 1..0");
  });

  it("upscales RGB pixels to opaque blocks", () => {
    const img = upscaleRgb(Uint8Array.from([10, 20, 30, 40, 50, 60]), 2, 1, 2);
    expect([img.width, img.height]).toEqual([4, 2]);
    expect(Array.from(img.data.subarray(0, 8))).toEqual([10, 20, 30, 255, 10, 20, 30, 255]);
    expect(Array.from(img.data.subarray(4 * 4 + 8, 4 * 4 + 12))).toEqual([40, 50, 60, 255]);
    expect(() => upscaleRgb(new Uint8Array(5), 2, 1)).toThrow("RGB image of 2x1 needs 6 bytes, got 5");
  });

  it("composes rows of tiles with gaps, each row as tall as its tallest tile", () => {
    const red = solidImage(2, 1, [255, 0, 0]);
    const blue = solidImage(1, 3, [0, 0, 255]);
    const out = composeRows([[red, blue], [blue]], 1);
    // Row 1: 1 + 2 + 1 + 1 + 1 = 6 wide, 3 tall; row 2 under it; height 1 + 3 + 1 + 3 + 1 = 9.
    expect([out.width, out.height]).toEqual([6, 9]);
    const px = (x: number, y: number) => Array.from(out.data.subarray((y * out.width + x) * 4, (y * out.width + x) * 4 + 3));
    expect(px(1, 1)).toEqual([255, 0, 0]);
    expect(px(1, 2)).toEqual([255, 255, 255]);
    expect(px(4, 3)).toEqual([0, 0, 255]);
    expect(px(1, 5)).toEqual([0, 0, 255]);
    expect(() => composeRows([[]])).toThrow(/at least one tile in every row/);
  });
});
