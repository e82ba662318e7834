using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;

// A fixed number of invocations per iteration, because state is rebuilt before each iteration ([IterationSetup]).
var job = Job.Default
    .WithWarmupCount(3)
    .WithIterationCount(15)
    .WithInvocationCount(256_000)
    .WithUnrollFactor(16);
var config = DefaultConfig.Instance.AddJob(job.AsDefault()).WithOptions(ConfigOptions.JoinSummary);
BenchmarkSwitcher.FromAssembly(typeof(Anpm.Benchmarks.LedgerBenchmarks).Assembly).Run(args, config);
