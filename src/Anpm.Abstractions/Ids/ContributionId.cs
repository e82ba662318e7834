using System.Diagnostics.CodeAnalysis;
using System.Text.Json.Serialization;

namespace Anpm.Abstractions;

/// <summary>The id of a contribution, chosen by the host: 1 to 64 of letters, digits and <c>_ -</c>; case-sensitive.</summary>
[JsonConverter(typeof(IdentifierJsonConverter<ContributionId>))]
public readonly record struct ContributionId : IIdentifier<ContributionId>
{
    /// <summary>The longest contribution id allowed, in characters.</summary>
    public const int MaxLength = 64;

    private static readonly IdentifierRules Rules = new("Contribution id", MaxLength, IdentifierRules.LettersAndDigits + "_-", "letters, digits and _ -");

    private ContributionId(string value) => Value = value;

    /// <inheritdoc />
    public string? Value { get; }

    /// <summary>Parses and validates a contribution id.</summary>
    /// <exception cref="FormatException">The text is not a valid contribution id; the message says why.</exception>
    public static ContributionId Parse(string text) => Rules.Parse(text, static value => new ContributionId(value));

    /// <summary>Parses and validates a contribution id.</summary>
    /// <returns><see langword="false"/> when the text is not a valid contribution id.</returns>
    public static bool TryParse([NotNullWhen(true)] string? text, out ContributionId id) => TryParse(text, out id, out _);

    /// <inheritdoc />
    public static bool TryParse([NotNullWhen(true)] string? text, out ContributionId id, [NotNullWhen(false)] out string? error) =>
        Rules.TryParse(text, static value => new ContributionId(value), out id, out error);

    /// <summary>The id text (empty for the <see langword="default"/> value).</summary>
    public override string ToString() => Value ?? string.Empty;
}
