using System.Diagnostics.CodeAnalysis;
using System.Text.Json.Serialization;

namespace Anpm.Abstractions;

/// <summary>The code of an asset held in the ledger, e.g. <c>APUS</c> or <c>CREDIT</c>: 1 to 16 uppercase letters and digits, starting with a letter.</summary>
[JsonConverter(typeof(IdentifierJsonConverter<AssetCode>))]
public readonly record struct AssetCode : IIdentifier<AssetCode>
{
    /// <summary>The longest asset code allowed, in characters.</summary>
    public const int MaxLength = 16;

    private static readonly IdentifierRules Rules = new("Asset code", MaxLength, IdentifierRules.Uppercase + IdentifierRules.Digits, "uppercase letters and digits", IdentifierRules.Uppercase);

    private AssetCode(string value) => Value = value;

    /// <inheritdoc />
    public string? Value { get; }

    /// <summary>Parses and validates an asset code.</summary>
    /// <exception cref="FormatException">The text is not a valid asset code; the message says why.</exception>
    public static AssetCode Parse(string text) => Rules.Parse(text, static value => new AssetCode(value));

    /// <summary>Parses and validates an asset code.</summary>
    /// <returns><see langword="false"/> when the text is not a valid asset code.</returns>
    public static bool TryParse([NotNullWhen(true)] string? text, out AssetCode id) => TryParse(text, out id, out _);

    /// <inheritdoc />
    public static bool TryParse([NotNullWhen(true)] string? text, out AssetCode id, [NotNullWhen(false)] out string? error) =>
        Rules.TryParse(text, static value => new AssetCode(value), out id, out error);

    /// <summary>The id text (empty for the <see langword="default"/> value).</summary>
    public override string ToString() => Value ?? string.Empty;
}
