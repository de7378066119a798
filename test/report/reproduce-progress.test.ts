import { headingAnchor, headlineRows, PlainProgress } from "../../scripts/reproduce";
import { HEADLINES_MIME, headlinesBundle } from "../../src/report/notebook";

describe("reproduce's progress lines without a terminal", () => {
  it("prints each stage's first and last redraw and at most one every interval between", () => {
    const p = new PlainProgress(10_000);
    const lines = [
      ["extract resnet20/train: 0/50000 images (0%)", 0],
      ["extract resnet20/train: 1024/50000 images (2%), 1000 images/s, 49s left", 1_000],
      ["extract resnet20/train: 9216/50000 images (18%), 1000 images/s, 41s left", 9_000],
      ["extract resnet20/train: 11264/50000 images (23%), 1000 images/s, 39s left", 11_000],
      ["extract resnet20/train: 50000/50000 images (100%), 1000 images/s, 50s", 50_000],
      ["extract resnet20/train: 50000/50000 images (100%), 999 images/s, 50s", 50_000.5],
      ["extract resnet20/test: 0/10000 images (0%)", 50_001],
    ] as const;
    expect(lines.filter(([text, at]) => p.shouldPrint(text, at)).map(([, at]) => at)).toEqual([0, 11_000, 50_000, 50_001]);
  });
});

describe("reproduce's index of the paper's tables and figures", () => {
  it("links each headline to its section by nbconvert's heading id", () => {
    expect(headingAnchor("Fig. 3: A_d and r_A over the (k1, k2) grid")).toBe("Fig.-3:-A_d-and-r_A-over-the-(k1,-k2)-grid");
    expect(headingAnchor("06 · Noise ablation (Table 8)")).toBe("06-%C2%B7-Noise-ablation-(Table-8)");
    const rows = headlineRows([
      {
        name: "06-noise-ablation", ok: true, seconds: 1, summary: "",
        headlines: [
          { item: "Table 8", quantity: "ResNet20, influential noised (%)", ours: "47.8 ± 0.4 [47.7, 48.0]", paper: "48.97", section: "06 · Noise ablation (Table 8)" },
          { item: "Table 8", quantity: "ResNet50 ImageNet", ours: null, paper: "74.55", reason: "needs ImageNet" },
        ],
      },
    ]);
    expect(rows).toContain('<td>47.8 ± 0.4 [47.7, 48.0]</td><td>48.97</td><td>measured</td><td><a href="06-noise-ablation.html#06-%C2%B7-Noise-ablation-(Table-8)">');
    expect(rows).toContain("<td>—</td><td>74.55</td><td>paper only: needs ImageNet</td>");
  });

  it("refuses a headline without a number of ours or a reason", () => {
    expect(() => headlinesBundle([{ item: "Table 1", quantity: "CSG", ours: null, paper: "0.88" }])).toThrow('headline "Table 1: CSG" has no number of ours and no reason why');
    expect(headlinesBundle([{ item: "Fig. 3", quantity: "A_d", ours: "88.59", paper: "88.59" }])[HEADLINES_MIME]).toEqual({ headlines: [{ item: "Fig. 3", quantity: "A_d", ours: "88.59", paper: "88.59" }] });
  });
});
