import { PlainProgress } from "../../scripts/reproduce";

describe("reproduce's progress lines without a terminal", () => {
  it("prints each stage's first and last redraw and at most one every interval between", () => {
    const p = new PlainProgress(10_000);
    const lines = [
      ["extract resnet20/train: 0/50000 images (0%)", 0],
      ["extract resnet20/train: 1024/50000 images (2%), 1000 images/s, 49s left", 1_000],
      ["extract resnet20/train: 9216/50000 images (18%), 1000 images/s, 41s left", 9_000],
      ["extract resnet20/train: 11264/50000 images (23%), 1000 images/s, 39s left", 11_000],
      ["extract resnet20/train: 50000/50000 images (100%), 1000 images/s, 50s", 50_000],
      ["extract resnet20/test: 0/10000 images (0%)", 50_001],
    ] as const;
    expect(lines.filter(([text, at]) => p.shouldPrint(text, at)).map(([, at]) => at)).toEqual([0, 11_000, 50_000, 50_001]);
  });
});
