import { PNG } from "pngjs";
import { encodePng, mapGrid, pngBundle } from "../../src/report/image";

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
});
