/**
 * src/report/paper.ts is the one place the paper's numbers live; here every one of them is checked against the
 * transcription in ../shared/paper/tables.json (present wherever the project is checked out, CI included).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { PAPER, PAPER_IMAGENET } from "../../src/report/paper";

const tables = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "..", "..", "shared", "paper", "tables.json"), "utf8"));

type Columns = { models: string[]; n?: number[]; k2_over_c: number; k2_over_n: number | number[]; A_d: number[]; A_f: number[]; r_A: number[]; num_layers?: number[] };
const TABLES: [string, string][] = [
  ["table2_resnet", "Table 2"],
  ["table3_wide_resnet", "Table 3"],
  ["table4_densenet_121_169", "Table 4"],
  ["table5_densenet_161_201", "Table 5"],
  ["table6_efficientnet", "Table 6"],
];

describe("the paper's numbers", () => {
  it("hold every column of Tables 2-6, as printed, and no model the tables lack", () => {
    const seen: string[] = [];
    for (const [key, source] of TABLES) {
      const t = tables[key] as Columns;
      t.models.forEach((model, i) => {
        seen.push(model);
        const at = (v: number | number[]) => (Array.isArray(v) ? v[i] : v);
        expect({ model, ...PAPER_IMAGENET[model] }).toEqual({
          model, source, n: t.n === undefined ? 2048 : t.n[i], k2OverC: t.k2_over_c, k2OverN: at(t.k2_over_n),
          decomposedAccuracy: t.A_d[i], fullAccuracy: t.A_f[i], accuracyRatio: t.r_A[i],
          ...(t.num_layers === undefined ? {} : { layers: t.num_layers[i] }),
          ...(t.n === undefined ? { nNote: expect.stringContaining("merged cell") } : {}),
        });
      });
    }
    expect(Object.keys(PAPER_IMAGENET).sort()).toEqual(seen.sort());
    expect(seen).toHaveLength(13);
  });

  it("hold Table 1, Table 8 and the text's numbers", () => {
    const [r20, r34, t18, t34] = tables.table1_csg.rows;
    const pct = (x: number) => Math.round(x * 1e4) / 100;
    expect([PAPER.resnet20Cifar10CsgTable1.value, PAPER.resnet20Cifar10StdTable1.value]).toEqual([pct(r20.CSG), pct(r20.STD)]);
    expect([PAPER.resnet34Cifar10CsgTable1.value, PAPER.resnet34Cifar10StdTable1.value]).toEqual([pct(r34.CSG), pct(r34.STD)]);
    expect([PAPER.resnet18TinyCsgTable1.value, PAPER.resnet18TinyStdTable1.value]).toEqual([pct(t18.CSG), pct(t18.STD)]);
    expect([PAPER.resnet34TinyCsgTable1.value, PAPER.resnet34TinyStdTable1.value]).toEqual([pct(t34.CSG), pct(t34.STD)]);
    const noise = tables.table8_noise_percent;
    expect([PAPER.resnet20NoiseOriginal.value, PAPER.resnet20NoiseInfluential.value, PAPER.resnet20NoiseNonInfluential.value]).toEqual(noise.resnet20_cifar10);
    expect([PAPER.resnet50NoiseOriginal.value, PAPER.resnet50NoiseInfluential.value, PAPER.resnet50NoiseNonInfluential.value]).toEqual(noise.resnet50_imagenet);
    const text = tables.text_percent;
    expect([PAPER.resnet20FullAccuracy.value, PAPER.resnet20DecomposedK5.value, PAPER.resnet20DecomposedK2is3.value, PAPER.resnet20FineTunedOneEpoch.value]).toEqual([
      text.resnet20_full, text.resnet20_decomposed_k1_k2_5, text.resnet20_decomposed_k2_3, text.resnet20_after_one_epoch_fine_tune,
    ]);
    expect([PAPER.resnet50DecomposedImageNet.value, PAPER.resnet50RetrainedImageNet.value]).toEqual([text.resnet50_decomposed, text.resnet50_after_about_10_epochs]);
  });
});
