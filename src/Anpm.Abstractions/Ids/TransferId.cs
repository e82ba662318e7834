using System.Diagnostics.CodeAnalysis;
using System.Text.Json.Serialization;

namespace Anpm.Abstractions;

/// <summary>The caller-chosen id of a ledger transfer, the key of its idempotency: 1 to 128 of letters, digits and <c>. _ : -</c>; case-sensitive.</summary>
[JsonConverter(typeof(IdentifierJsonConverter<TransferId>))]
public readonly record struct TransferId : IIdentifier<TransferId>
{
    /// <summary>The longest transfer id allowed, in characters.</summary>
    public const int MaxLength = 128;

    private const string HashMarker = "keccak:";
    private const int HashedSuffixLength = 7 + (2 * Keccak256.HashSizeBytes);

    private static readonly IdentifierRules Rules = new("Transfer id", MaxLength, IdentifierRules.LettersAndDigits + "._:-", "letters, digits and . _ : -");

    private TransferId(string value) => Value = value;

    /// <inheritdoc />
    public string? Value { get; }

    /// <summary>Parses and validates a transfer id.</summary>
    /// <exception cref="FormatException">The text is not a valid transfer id; the message says why.</exception>
    public static TransferId Parse(string text) => Rules.Parse(text, static value => new TransferId(value));

    /// <summary>Parses and validates a transfer id.</summary>
    /// <returns><see langword="false"/> when the text is not a valid transfer id.</returns>
    public static bool TryParse([NotNullWhen(true)] string? text, out TransferId id) => TryParse(text, out id, out _);

    /// <inheritdoc />
    public static bool TryParse([NotNullWhen(true)] string? text, out TransferId id, [NotNullWhen(false)] out string? error) =>
        Rules.TryParse(text, static value => new TransferId(value), out id, out error);

    /// <summary>
    /// A transfer id derived from another id, e.g. <c>refund:</c> and a contribution id: <paramref name="prefix"/> followed
    /// by <paramref name="source"/> when that fits in <see cref="MaxLength"/>, otherwise (and whenever the source itself
    /// starts with <c>keccak:</c>) the prefix followed by <c>keccak:</c> and the source's Keccak-256 in hex. The same inputs
    /// always give the same id, and different sources never share one (short of a Keccak-256 collision), so a derived id
    /// keeps the idempotency of the id it comes from.
    /// </summary>
    /// <param name="prefix">What the derived transfer is, e.g. <c>confirmed:</c>: at most 57 characters allowed in an id.</param>
    /// <param name="source">The id it derives from; any text.</param>
    /// <exception cref="FormatException">The prefix is longer than 57 characters or has characters an id does not allow.</exception>
    public static TransferId Derive(string prefix, string source)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        ArgumentNullException.ThrowIfNull(source);
        if (prefix.Length > MaxLength - HashedSuffixLength)
        {
            throw new FormatException($"A derived transfer id's prefix is {prefix.Length} characters long; at most {MaxLength - HashedSuffixLength} are allowed.");
        }

        if (prefix.Length + source.Length <= MaxLength && !source.StartsWith(HashMarker, StringComparison.Ordinal)
            && TryParse(prefix + source, out var literal))
        {
            return literal;
        }

        return Parse(prefix + HashMarker + Convert.ToHexStringLower(Keccak256.Hash(System.Text.Encoding.UTF8.GetBytes(source))));
    }

    /// <summary>The id text (empty for the <see langword="default"/> value).</summary>
    public override string ToString() => Value ?? string.Empty;
}
