using Anpm.Abstractions;
using Anpm.Tensors;

namespace Anpm.Pools;

/// <summary>
/// A pool's configuration (the wire contract's pool config): a name, a description and up to three sections — a contribution
/// campaign, staking and inference. At least one section is present. Parse it with <see cref="PoolConfigParser"/>.
/// </summary>
public sealed record PoolConfig
{
    /// <summary>The pool's display name (at most 100 characters).</summary>
    public required string Name { get; init; }

    /// <summary>What the pool is for (at most 2000 characters); empty when not given.</summary>
    public string Description { get; init; } = string.Empty;

    /// <summary>The contribution campaign, or <see langword="null"/>.</summary>
    public ContributionConfig? Contribution { get; init; }

    /// <summary>Staking, or <see langword="null"/>.</summary>
    public StakingConfig? Staking { get; init; }

    /// <summary>Inference, or <see langword="null"/>.</summary>
    public InferenceConfig? Inference { get; init; }
}

/// <summary>A contribution campaign: a window, a limit, where the collected tokens go, and how the pot is split.</summary>
public sealed record ContributionConfig
{
    /// <summary>When contributions open (UTC).</summary>
    public required DateTimeOffset StartUtc { get; init; }

    /// <summary>When contributions close (UTC); after <see cref="StartUtc"/>.</summary>
    public required DateTimeOffset EndUtc { get; init; }

    /// <summary>The most the campaign collects, in token base units; the part of a contribution over it is refunded.</summary>
    public required TokenAmount AmountLimit { get; init; }

    /// <summary>Where the collected tokens go when the pool starts funding.</summary>
    public required Address Destination { get; init; }

    /// <summary>The prize calculator's name: <c>pro-rata</c> (default) or <c>equal-split</c>.</summary>
    public string PrizeCalculator { get; init; } = "pro-rata";
}

/// <summary>Staking: how much stake the pool takes and what it pays per day.</summary>
public sealed record StakingConfig
{
    /// <summary>The most tokens the pool accepts as stake, in base units; the excess of a stake is refunded.</summary>
    public required TokenAmount Capacity { get; init; }

    /// <summary>The reward budget per UTC day, in base units, split pro rata over eligible stake.</summary>
    public required TokenAmount DailyReward { get; init; }

    /// <summary>How old a stake must be before it earns, in seconds. Default 86 400.</summary>
    public long MinStakeAgeSeconds { get; init; } = 86_400;
}

/// <summary>Inference: the models offered, the oracles allowed, replication and limits.</summary>
public sealed record InferenceConfig
{
    /// <summary>The models offered (at least one, distinct ids).</summary>
    public required IReadOnlyList<ModelOffer> Models { get; init; }

    /// <summary>The oracle addresses allowed to claim tasks (distinct).</summary>
    public IReadOnlyList<Address> Oracles { get; init; } = [];

    /// <summary>How many oracles run each task (k). Default 1.</summary>
    public int Replication { get; init; } = 1;

    /// <summary>How many agreeing results accept a task (q ≤ k). Default 1.</summary>
    public int Quorum { get; init; } = 1;

    /// <summary>How long an oracle holds a claimed task, in seconds. Default 60.</summary>
    public int LeaseSeconds { get; init; } = 60;

    /// <summary>How many times a task may be attempted before it fails. Default 3.</summary>
    public int MaxAttempts { get; init; } = 3;

    /// <summary>The largest task input, in bytes. Default 65 536.</summary>
    public int MaxInputBytes { get; init; } = 65_536;

    /// <summary>The largest task output an oracle may return, in bytes. Default 1 048 576.</summary>
    public int MaxOutputBytes { get; init; } = 1_048_576;
}

/// <summary>A model a pool offers.</summary>
/// <param name="Id">The model id, e.g. <c>digits</c>: 1 to 64 of letters, digits and <c>. _ -</c>.</param>
/// <param name="Sha256">The SHA-256 of the ONNX file as <c>0x</c> + 64 lowercase hex digits.</param>
/// <param name="Price">The price of one task, in credits; never zero.</param>
public sealed record ModelOffer(string Id, string Sha256, TokenAmount Price)
{
    /// <summary>
    /// The model's declared inputs; when given, a task's input must hold exactly these (names, element types, shapes,
    /// finite floats) or it is refused before any credits are held. <see langword="null"/>: the pool takes any input text
    /// and cannot refuse one the model cannot run (the task then fails on the oracle's "bad input" report).
    /// </summary>
    public IReadOnlyList<TensorSpec>? Inputs { get; init; }

    /// <summary>
    /// The model's declared outputs; when given, an oracle's output must be the canonical document holding exactly these,
    /// or the result is refused and nobody is charged for it. <see langword="null"/>: the pool takes any output text its
    /// oracles attest — declare the outputs of every model users pay for.
    /// </summary>
    public IReadOnlyList<TensorSpec>? Outputs { get; init; }
}
