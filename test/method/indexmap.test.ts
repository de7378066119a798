import { evaluateDecomposed } from "../../src/method/decomposed";
import { evaluateIndexMap, indexMapToJson, indexMapToObject, parseIndexMap } from "../../src/method/indexmap";
import { LinearLayer } from "../../src/method/types";

const shape = { classes: 3, features: 8 };
const sets = [[5, 1], [0], [7, 2, 3]];

describe("index map JSON", () => {
  it("round trips with decimal class keys, keeping rank order", () => {
    const text = indexMapToJson(sets, shape);
    expect(JSON.parse(text)).toEqual({ "0": [5, 1], "1": [0], "2": [7, 2, 3] });
    expect(parseIndexMap(text, shape)).toEqual(sets);
  });

  it("round trips with class names as keys", () => {
    const named = { ...shape, classNames: ["cat", "dog", "ship"] };
    expect(indexMapToObject(sets, named)).toEqual({ cat: [5, 1], dog: [0], ship: [7, 2, 3] });
    expect(parseIndexMap(indexMapToJson(sets, named), named)).toEqual(sets);
  });

  it("accepts an already parsed object", () => {
    expect(parseIndexMap({ "2": [1], "0": [], "1": [3] }, shape)).toEqual([[], [3], [1]]);
  });

  it.each([
    ["{not json", shape, "index map is not valid JSON"],
    ["[[1], [2], [3]]", shape, 'index map must be a JSON object mapping each class to its indices, e.g. {"0": [3, 17]}'],
    ['{"0": [1], "1": [2], "2": [3], "3": [4]}', shape, 'index map key "3" is not a class; expected keys: "0", "1", "2"'],
    ['{"0": [1], "2": [3]}', shape, 'index map has no entry for class 1; add "1": [indices...]'],
    ['{"cat": [1], "ship": [3]}', { ...shape, classNames: ["cat", "dog", "ship"] }, 'index map has no entry for class 1 ("dog"); add "dog": [indices...]'],
    ['{"0": [1.5], "1": [2], "2": [3]}', shape, "class 0: index 1.5 is not an integer in 0..7 (feature width 8)"],
    ['{"0": [1], "1": [8], "2": [3]}', shape, "class 1: index 8 is not an integer in 0..7 (feature width 8)"],
    ['{"0": [1], "1": [-1], "2": [3]}', shape, "class 1: index -1 is not an integer in 0..7"],
    ['{"0": [1], "1": ["2"], "2": [3]}', shape, 'class 1: index "2" is not an integer in 0..7'],
    ['{"0": [1], "1": [2], "2": [3, 4, 3]}', shape, "class 2: index 3 appears more than once"],
    ['{"0": [1], "1": 2, "2": [3]}', shape, "class 1: indices must be an array of integers"],
    ['{"a": [1]}', { ...shape, classNames: ["a", "b"] }, "got 2 class names for 3 classes; give one name per class"],
    ['{"a": [1]}', { ...shape, classNames: ["a", "a", "b"] }, "class names must be distinct to serve as keys"],
  ])("rejects %s", (text, s, message) => {
    expect(() => parseIndexMap(text, s)).toThrow(message);
  });

  it("evaluates an external map exactly like the parsed sets", () => {
    const layer: LinearLayer = {
      weight: Float32Array.from({ length: 24 }, (_, i) => ((i * 7) % 5) - 2),
      bias: Float32Array.from([0.1, -0.2, 0.3]),
      classes: 3,
      features: 8,
    };
    const features = { data: Float32Array.from({ length: 40 }, (_, i) => (i * 13) % 9), rows: 5, cols: 8 };
    const labels = Uint8Array.from([0, 1, 2, 0, 1]);
    const names = ["a", "b", "c"];
    const text = indexMapToJson(sets, { ...shape, classNames: names });
    expect(evaluateIndexMap(text, features, labels, layer, names)).toEqual(evaluateDecomposed(features, labels, layer, sets));
  });
});
