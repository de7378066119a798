import { CIFAR10_CLASSES, makeImageSet, validateSplit } from "../../src/data/image-set";

const balanced = (n: number) => new Uint8Array(n).map((_, i) => i % 10);

describe("CIFAR-10 split validation", () => {
  it("names the ten classes in label order", () => {
    expect(CIFAR10_CLASSES).toEqual(["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]);
  });

  it("accepts a balanced test split", () => {
    expect(() => validateSplit(makeImageSet(new Uint8Array(10000 * 3072), balanced(10000)), "test", "here")).not.toThrow();
  });

  it("rejects a wrong count, a label outside 0..9 and an unbalanced class", () => {
    const pixels = new Uint8Array(10000 * 3072);
    expect(() => validateSplit(makeImageSet(new Uint8Array(10 * 3072), balanced(10)), "test", "here")).toThrow(
      "CIFAR-10 test split from here is not valid: 10 images, expected 10000",
    );
    const badLabel = balanced(10000);
    badLabel[17] = 10;
    expect(() => validateSplit(makeImageSet(pixels, badLabel), "test", "here")).toThrow("label 10 at image 17 is outside 0..9");
    const unbalanced = balanced(10000);
    unbalanced[3] = 2;
    expect(() => validateSplit(makeImageSet(pixels, unbalanced), "test", "here")).toThrow("class 2 (bird) has 1001 images, expected 1000");
  });

  it("refuses pixels that do not match the label count", () => {
    expect(() => makeImageSet(new Uint8Array(3072), balanced(2))).toThrow("pixels hold 3072 bytes but 2 labels need 6144");
  });
});
