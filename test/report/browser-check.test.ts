import { problemsOf } from "../../scripts/browser-check";

describe("browser check of a report's images", () => {
  const image = { width: 96, height: 96, distinctPixels: 9, natural: [96, 96] as [number, number], expected: [96, 96] as [number, number] | null };

  it("accepts images at their declared natural size and those that declare none", () => {
    expect(problemsOf({ charts: [], tables: [], images: [image, { ...image, expected: null, natural: [5, 5] }] })).toEqual([]);
  });

  it("names an image that loaded at another size than it declares, or not at all", () => {
    expect(problemsOf({ charts: [], tables: [], images: [image, { ...image, natural: [0, 0] }] })).toEqual(["image 2 loaded at 0 x 0, expected 96 x 96"]);
    expect(problemsOf({ charts: [], tables: [], images: [{ ...image, width: 0 }] })).toEqual(["image 1 is not displayed"]);
  });
});
