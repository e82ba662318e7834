namespace Anpm.Abstractions;

/// <summary>
/// The base of every exception Anpm throws for infrastructure failures (a store that cannot be reached, a corrupt
/// record, a concurrency conflict that retries did not resolve). Expected outcomes such as an insufficient balance
/// are results, never exceptions.
/// </summary>
public class AnpmException : Exception
{
    /// <summary>Creates an exception with no message.</summary>
    public AnpmException()
    {
    }

    /// <summary>Creates an exception with a message.</summary>
    public AnpmException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with a message and the exception that caused it.</summary>
    public AnpmException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// A unit of work could not commit because another one changed the same data first. Retrying the whole command is safe:
/// nothing of it was kept.
/// </summary>
public sealed class AnpmConcurrencyException : AnpmException
{
    /// <summary>Creates an exception with no message.</summary>
    public AnpmConcurrencyException()
    {
    }

    /// <summary>Creates an exception with a message.</summary>
    public AnpmConcurrencyException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with a message and the exception that caused it.</summary>
    public AnpmConcurrencyException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
