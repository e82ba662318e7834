using System.Diagnostics.CodeAnalysis;
using System.Text.Json.Serialization;

namespace Anpm.Abstractions;

/// <summary>The id of a pool, e.g. <c>demo</c>: 1 to 64 of letters, digits and <c>_ -</c>; case-sensitive. A pool id is never reused.</summary>
[JsonConverter(typeof(IdentifierJsonConverter<PoolId>))]
public readonly record struct PoolId : IIdentifier<PoolId>
{
    /// <summary>The longest pool id allowed, in characters.</summary>
    public const int MaxLength = 64;

    private static readonly IdentifierRules Rules = new("Pool id", MaxLength, IdentifierRules.LettersAndDigits + "_-", "letters, digits and _ -");

    private PoolId(string value) => Value = value;

    /// <inheritdoc />
    public string? Value { get; }

    /// <summary>Parses and validates a pool id.</summary>
    /// <exception cref="FormatException">The text is not a valid pool id; the message says why.</exception>
    public static PoolId Parse(string text) => Rules.Parse(text, static value => new PoolId(value));

    /// <summary>Parses and validates a pool id.</summary>
    /// <returns><see langword="false"/> when the text is not a valid pool id.</returns>
    public static bool TryParse([NotNullWhen(true)] string? text, out PoolId id) => TryParse(text, out id, out _);

    /// <inheritdoc />
    public static bool TryParse([NotNullWhen(true)] string? text, out PoolId id, [NotNullWhen(false)] out string? error) =>
        Rules.TryParse(text, static value => new PoolId(value), out id, out error);

    /// <summary>The id text (empty for the <see langword="default"/> value).</summary>
    public override string ToString() => Value ?? string.Empty;
}
