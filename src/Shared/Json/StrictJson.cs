using System.Text.Json;

namespace Anpm;

/// <summary>
/// What Anpm refuses in JSON it is given, beyond the syntax: the same key twice in one object (parsers disagree on
/// which wins) and text that is not valid Unicode (lone UTF-16 surrogates written as escapes, invalid UTF-8), which
/// cannot be read as a string. Internal shared source, compiled into each package that reads JSON it is given.
/// </summary>
internal static class StrictJson
{
    /// <summary>The first problem in <paramref name="element"/> and everything below it, in words naming where it is.</summary>
    /// <param name="element">The JSON to check.</param>
    /// <param name="path">How to name <paramref name="element"/> in the message, e.g. <c>$</c> or <c>config</c>.</param>
    /// <returns>The problem, or <see langword="null"/> when there is none.</returns>
    public static string? FindProblem(JsonElement element, string path = "$")
    {
        ArgumentNullException.ThrowIfNull(path);
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var names = new HashSet<string>(StringComparer.Ordinal);
                foreach (var property in element.EnumerateObject())
                {
                    string name;
                    try
                    {
                        name = property.Name;
                    }
                    catch (InvalidOperationException)
                    {
                        return $"{path} has a key that is not valid Unicode text.";
                    }

                    if (!names.Add(name))
                    {
                        return $"{path}.{name} appears twice.";
                    }

                    if (FindProblem(property.Value, $"{path}.{name}") is { } inner)
                    {
                        return inner;
                    }
                }

                return null;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    if (FindProblem(item, $"{path}[{index++}]") is { } inner)
                    {
                        return inner;
                    }
                }

                return null;
            case JsonValueKind.String:
                try
                {
                    _ = element.GetString();
                    return null;
                }
                catch (InvalidOperationException)
                {
                    return $"{path} is not valid Unicode text (a lone surrogate or invalid UTF-8).";
                }

            default:
                return null;
        }
    }
}
