//! NoKV's measuring tools: the engine benchmark (db_bench workloads), the RESP load generator
//! and the side-by-side benchmark drivers. Results are recorded under `perf/results/`.
