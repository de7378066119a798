/** DataFrames that put our measurements beside the paper's, in the column layout every report table uses. */
import { DataFrame } from "danfojs-node";
import { PAPER, PaperKey } from "./paper";
import { PAPER_COLUMN } from "./table";

export interface ComparisonRow {
  quantity: string;
  /** Our measurement; null while the experiment has not run. */
  ours: number | null;
  /** The paper's number for the same quantity, when it reports one. */
  paper?: PaperKey;
}

export const OURS_COLUMN = "ours";
export const SOURCE_COLUMN = "paper source";

/** Columns: quantity, ours, paper (Badola et al.), paper source. */
export function comparisonFrame(rows: ComparisonRow[]): DataFrame {
  if (rows.length === 0) throw new Error("comparisonFrame needs at least one row");
  return new DataFrame({
    quantity: rows.map((r) => r.quantity),
    [OURS_COLUMN]: rows.map((r) => r.ours),
    [PAPER_COLUMN]: rows.map((r) => (r.paper ? PAPER[r.paper].value : null)),
    [SOURCE_COLUMN]: rows.map((r) => (r.paper ? PAPER[r.paper].source : "")),
  });
}

/** The paper's claims for a section before we have run it: the "ours" column stays empty, never filled from the paper. */
export function paperClaimsFrame(keys: PaperKey[]): DataFrame {
  return comparisonFrame(keys.map((key) => ({ quantity: PAPER[key].quantity, ours: null, paper: key })));
}
