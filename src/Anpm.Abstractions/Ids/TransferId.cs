using System.Diagnostics.CodeAnalysis;
using System.Text.Json.Serialization;

namespace Anpm.Abstractions;

/// <summary>The caller-chosen id of a ledger transfer, the key of its idempotency: 1 to 128 of letters, digits and <c>. _ : -</c>; case-sensitive.</summary>
[JsonConverter(typeof(IdentifierJsonConverter<TransferId>))]
public readonly record struct TransferId : IIdentifier<TransferId>
{
    /// <summary>The longest transfer id allowed, in characters.</summary>
    public const int MaxLength = 128;

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

    /// <summary>The id text (empty for the <see langword="default"/> value).</summary>
    public override string ToString() => Value ?? string.Empty;
}
