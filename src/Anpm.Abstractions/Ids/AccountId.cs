using System.Diagnostics.CodeAnalysis;
using System.Text.Json.Serialization;

namespace Anpm.Abstractions;

/// <summary>The id of a ledger account, e.g. <c>user:0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed:credit</c>: 1 to 128 of letters, digits and <c>. _ : -</c>; case-sensitive.</summary>
[JsonConverter(typeof(IdentifierJsonConverter<AccountId>))]
public readonly record struct AccountId : IIdentifier<AccountId>
{
    /// <summary>The longest account id allowed, in characters.</summary>
    public const int MaxLength = 128;

    private static readonly IdentifierRules Rules = new("Account id", MaxLength, IdentifierRules.LettersAndDigits + "._:-", "letters, digits and . _ : -");

    private AccountId(string value) => Value = value;

    /// <inheritdoc />
    public string? Value { get; }

    /// <summary>Parses and validates an account id.</summary>
    /// <exception cref="FormatException">The text is not a valid account id; the message says why.</exception>
    public static AccountId Parse(string text) => Rules.Parse(text, static value => new AccountId(value));

    /// <summary>Parses and validates an account id.</summary>
    /// <returns><see langword="false"/> when the text is not a valid account id.</returns>
    public static bool TryParse([NotNullWhen(true)] string? text, out AccountId id) => TryParse(text, out id, out _);

    /// <inheritdoc />
    public static bool TryParse([NotNullWhen(true)] string? text, out AccountId id, [NotNullWhen(false)] out string? error) =>
        Rules.TryParse(text, static value => new AccountId(value), out id, out error);

    /// <summary>The id text (empty for the <see langword="default"/> value).</summary>
    public override string ToString() => Value ?? string.Empty;
}
