import { comparisonFrame, paperClaimsFrame } from "../../src/report/frames";
import { PAPER } from "../../src/report/paper";
import { PAPER_COLUMN, tableBundle, tableHtml, tableText } from "../../src/report/table";

describe("report tables", () => {
  const frame = comparisonFrame([
    { quantity: "full layer", ours: 91.234, paper: "resnet20FullAccuracy" },
    { quantity: "k2 = 3", ours: null, paper: "resnet20DecomposedK2is3" },
    { quantity: "no paper number", ours: 50 },
  ]);

  it("puts the paper's value in its own labelled column beside ours", () => {
    expect(frame.columns).toEqual(["quantity", "ours", PAPER_COLUMN, "paper source"]);
    const html = tableHtml(frame);
    expect(html).toContain(`>${PAPER_COLUMN}</th>`);
    const rows = html.split("<tr>").slice(2);
    expect(rows[0]).toMatch(/>full layer<.*>91\.23<.*>91\.17<.*>paper text</);
    // Ours is empty where we have no measurement: the paper number is never copied into it.
    expect(rows[1]).toMatch(/>k2 = 3<.*>—<.*>84\.16</);
    expect(rows[2]).toMatch(/>50<.*>—</);
    expect(html).toContain("not our measurements");
  });

  it("shades only the paper columns", () => {
    const html = tableHtml(frame);
    const headers = html.match(/<th [^>]*>[^<]*<\/th>/g)!;
    expect(headers.map((h) => h.includes("background"))).toEqual([false, false, true, true]);
  });

  it("escapes HTML in cells and captions", () => {
    const html = tableHtml({ columns: ["a<b"], values: [["<script>"]] } as never, { caption: "x & y" });
    expect(html).not.toContain("<script>");
    expect(html).toContain("&lt;script&gt;");
    expect(html).toContain("x &amp; y");
  });

  it("paperClaimsFrame lists each paper value with its source and no result of ours", () => {
    const claims = paperClaimsFrame(["resnet50NoiseInfluential", "resnet20FineTunedOneEpoch"]);
    expect(claims.values).toEqual([
      [PAPER.resnet50NoiseInfluential.quantity, null, 12.52, "Table 8"],
      [PAPER.resnet20FineTunedOneEpoch.quantity, null, 91.51, "retraining section"],
    ]);
  });

  it("gives an aligned text fallback in the same bundle", () => {
    const bundle = tableBundle(frame, { digits: 1 });
    expect(Object.keys(bundle).sort()).toEqual(["text/html", "text/plain"]);
    const lines = (bundle["text/plain"] as string).split("\n");
    expect(lines[0]).toMatch(/^quantity\s+ours\s+paper \(Badola et al\.\)\s+paper source$/);
    expect(lines[1]).toMatch(/^-+( +-+){3}$/);
    expect(lines[2]).toMatch(/^full layer\s+91\.2\s+91\.2\s+paper text$/);
    expect(tableText(frame).split("\n")).toHaveLength(5);
  });

  it("refuses an empty comparison", () => {
    expect(() => comparisonFrame([])).toThrow(/at least one row/);
  });
});
