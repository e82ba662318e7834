using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;

// Each benchmark class brings its own job ([Config]); the summaries of a run are joined into one table.
BenchmarkSwitcher.FromAssembly(typeof(Anpm.Benchmarks.LedgerBenchmarks).Assembly).Run(args, DefaultConfig.Instance.WithOptions(ConfigOptions.JoinSummary));
