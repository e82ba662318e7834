using System.Buffers;
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
    public const string Digits = "0123456789";
    public const string Lowercase = "abcdefghijklmnopqrstuvwxyz";
    public const string Uppercase = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    public const string LettersAndDigits = Uppercase + Lowercase + Digits;

    private readonly SearchValues<char> _allowed;
    private readonly string _allowedDescription;
    private readonly SearchValues<char>? _allowedFirst;

    /// <param name="name">The kind of id, for messages ("Pool id").</param>
    /// <param name="maxLength">The most characters allowed.</param>
    /// <param name="allowed">Every allowed character.</param>
    /// <param name="allowedDescription">The allowed characters in words, for messages.</param>
    /// <param name="allowedFirst">Every character allowed first, when stricter than <paramref name="allowed"/>.</param>
    public IdentifierRules(string name, int maxLength, string allowed, string allowedDescription, string? allowedFirst = null)
    {
        _name = name;
        _maxLength = maxLength;
        _allowed = SearchValues.Create(allowed);
        _allowedDescription = allowedDescription;
        _allowedFirst = allowedFirst is null ? null : SearchValues.Create(allowedFirst);
    }

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

        if (_allowedFirst is not null && !_allowedFirst.Contains(text[0]))
        {
            return $"{_name} '{Printable(text)}' may not start with '{Printable(text[..1])}'.";
        }

        var i = text.AsSpan().IndexOfAnyExcept(_allowed);
        return i < 0
            ? null
            : $"{_name} '{Printable(text)}' has '{Printable(text[i..(i + 1)])}' at position {i}; allowed are {_allowedDescription}.";
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
