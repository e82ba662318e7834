using System.Diagnostics.CodeAnalysis;

namespace Anpm.Abstractions;

/// <summary>A validated string id: non-empty, from an allowed character set, within a length limit.</summary>
/// <typeparam name="TSelf">The id type.</typeparam>
public interface IIdentifier<TSelf>
    where TSelf : struct, IIdentifier<TSelf>
{
    /// <summary>The id text; <see langword="null"/> only for the <see langword="default"/> value, which is not a valid id.</summary>
    string? Value { get; }

    /// <summary>Parses and validates an id.</summary>
    /// <param name="text">The text to parse.</param>
    /// <param name="id">The id, or <see langword="default"/>.</param>
    /// <param name="error">Why the text was refused, or <see langword="null"/>.</param>
    /// <returns><see langword="false"/> with <paramref name="error"/> naming the problem when the text is refused.</returns>
    static abstract bool TryParse([NotNullWhen(true)] string? text, out TSelf id, [NotNullWhen(false)] out string? error);
}

/// <summary>The rules one kind of id follows: its name for messages, its length limit and its allowed characters.</summary>
internal sealed class IdentifierRules
{
    private readonly string _name;
    private readonly int _maxLength;
    private readonly Func<char, bool> _isAllowed;
    private readonly string _allowedDescription;
    private readonly Func<char, bool>? _isAllowedFirst;

    public IdentifierRules(string name, int maxLength, Func<char, bool> isAllowed, string allowedDescription, Func<char, bool>? isAllowedFirst = null)
    {
        _name = name;
        _maxLength = maxLength;
        _isAllowed = isAllowed;
        _allowedDescription = allowedDescription;
        _isAllowedFirst = isAllowedFirst;
    }

    public static bool IsLetterDigitOr(char c, string others) => char.IsAsciiLetterOrDigit(c) || others.Contains(c, StringComparison.Ordinal);

    public bool TryParse<T>([NotNullWhen(true)] string? text, Func<string, T> create, out T id, [NotNullWhen(false)] out string? error)
        where T : struct
    {
        id = default;
        error = Validate(text);
        if (error is not null)
        {
            return false;
        }

        id = create(text!);
        return true;
    }

    public T Parse<T>(string text, Func<string, T> create)
        where T : struct =>
        TryParse(text, create, out var id, out var error) ? id : throw new FormatException(error);

    private string? Validate(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return $"{_name} is empty.";
        }

        if (text.Length > _maxLength)
        {
            return $"{_name} is {text.Length} characters long; at most {_maxLength} are allowed.";
        }

        if (_isAllowedFirst is not null && !_isAllowedFirst(text[0]))
        {
            return $"{_name} '{Printable(text)}' may not start with '{Printable(text[..1])}'.";
        }

        for (var i = 0; i < text.Length; i++)
        {
            if (!_isAllowed(text[i]))
            {
                return $"{_name} '{Printable(text)}' has '{Printable(text[i..(i + 1)])}' at position {i}; allowed are {_allowedDescription}.";
            }
        }

        return null;
    }

    // Keeps control characters out of error messages (and therefore out of logs).
    private static string Printable(string text)
    {
        if (!text.Any(char.IsControl))
        {
            return text;
        }

        return string.Concat(text.Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString()));
    }
}
