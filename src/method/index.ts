/** The method as pure functions over typed arrays: Algorithm 1, the decomposed layer, index maps, ablations. */
export * from "./types";
export * from "./influential";
export * from "./decomposed";
export * from "./indexmap";
export * from "./noise";
export * from "./metrics";
export * from "./random";
export * from "./validate";
export * from "./maps";
export * from "./faithfulness";
export * from "./mutual-info";
export * from "./gates";
export * from "./rules";
export * from "./refit";
export * from "./sparse";
export * from "./probe";
export * from "./class-tree";
