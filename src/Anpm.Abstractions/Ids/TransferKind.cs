using System.Diagnostics.CodeAnalysis;
using System.Text.Json.Serialization;

namespace Anpm.Abstractions;

/// <summary>What a transfer is for, e.g. <c>purchase</c>, <c>transfer</c>, <c>hold</c>, <c>consume</c>, <c>refund</c>: 1 to 32 lowercase letters, digits and <c>-</c>, starting with a letter.</summary>
[JsonConverter(typeof(IdentifierJsonConverter<TransferKind>))]
public readonly record struct TransferKind : IIdentifier<TransferKind>
{
    /// <summary>The longest transfer kind allowed, in characters.</summary>
    public const int MaxLength = 32;

    private static readonly IdentifierRules Rules = new("Transfer kind", MaxLength, IdentifierRules.Lowercase + IdentifierRules.Digits + "-", "lowercase letters, digits and -", IdentifierRules.Lowercase);

    private TransferKind(string value) => Value = value;

    /// <inheritdoc />
    public string? Value { get; }

    /// <summary>Parses and validates a transfer kind.</summary>
    /// <exception cref="FormatException">The text is not a valid transfer kind; the message says why.</exception>
    public static TransferKind Parse(string text) => Rules.Parse(text, static value => new TransferKind(value));

    /// <summary>Parses and validates a transfer kind.</summary>
    /// <returns><see langword="false"/> when the text is not a valid transfer kind.</returns>
    public static bool TryParse([NotNullWhen(true)] string? text, out TransferKind id) => TryParse(text, out id, out _);

    /// <inheritdoc />
    public static bool TryParse([NotNullWhen(true)] string? text, out TransferKind id, [NotNullWhen(false)] out string? error) =>
        Rules.TryParse(text, static value => new TransferKind(value), out id, out error);

    /// <summary>The id text (empty for the <see langword="default"/> value).</summary>
    public override string ToString() => Value ?? string.Empty;
}
