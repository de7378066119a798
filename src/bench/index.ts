/** Public surface of the benchmark behind `decomp bench`. */
export { runBenchmark, type BenchOptions } from "./run-benchmark";
export { formatBenchReport, type BenchReport, type ExtractReport, type FinetuneReport } from "./report";
