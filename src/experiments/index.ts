/** Experiments behind the notebooks: each runs the method on cached features and returns data, tables and charts. */
export * from "./setup";
export * from "./sweep";
export * from "./concentration";
export * from "./sweep-report";
export * from "./noise-ablation";
export * from "./noise-report";
export * from "./depth";
export * from "./depth-report";
export * from "./retraining";
export * from "./retraining-report";
export * from "./visualization";
export * from "./visualization-report";
export * from "./faithfulness";
export * from "./seed-spread";
export * from "./csg";
export * from "./csg-report";
