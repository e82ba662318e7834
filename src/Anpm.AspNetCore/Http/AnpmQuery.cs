using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Anpm.AspNetCore;

/// <summary>
/// How the list routes read their query: each key at most once, and a page limit that is a whole number in range — one
/// reading for every route, answered 400 <c>invalid_request</c> in every environment (never a binding exception).
/// </summary>
internal static class AnpmQuery
{
    /// <summary>Reads a page limit: absent → <paramref name="fallback"/>; otherwise digits only, 1 to <paramref name="maximum"/>.</summary>
    public static bool TryLimit(string? text, int fallback, int maximum, out int limit, out ProblemHttpResult? problem)
    {
        (limit, problem) = (fallback, null);
        if (text is null)
        {
            return true;
        }

        if (text.Length is > 0 and <= 9 && text.All(char.IsAsciiDigit) && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out limit) && limit is >= 1 && limit <= maximum)
        {
            return true;
        }

        problem = AnpmProblems.Invalid($"limit must be a whole number from 1 to {maximum}, not '{Shorten(text)}'.");
        return false;
    }

    /// <summary>The value of a query key as the client sent it, shortened for a message.</summary>
    public static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "…";
}

/// <summary>Refuses a query that gives a key more than once (parsers differ on which value wins).</summary>
internal sealed class QueryKeysOnceFilter : IEndpointFilter
{
    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        foreach (var (key, values) in context.HttpContext.Request.Query)
        {
            if (values.Count > 1)
            {
                return ValueTask.FromResult<object?>(AnpmProblems.Invalid($"The query gives '{AnpmQuery.Shorten(key)}' {values.Count} times; give it once."));
            }
        }

        return next(context);
    }
}
