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
/// A command's amounts fit 128 bits but would push a ledger account's totals past them (<see cref="CreateTransferResult.OverflowsDebits"/>
/// or <see cref="CreateTransferResult.OverflowsCredits"/>). Thrown where a command meets the refusal deep inside its unit of work;
/// the unit of work rolls back, so nothing of the command was kept. The input was too large — not a defect: an API answers
/// it as 422 <c>amount_too_large</c>, a token notice is refunded.
/// </summary>
public sealed class LedgerOverflowException : AnpmException
{
    /// <summary>Creates the exception for a ledger refusal.</summary>
    /// <param name="result">The overflow the ledger answered.</param>
    /// <param name="message">What failed, in words.</param>
    public LedgerOverflowException(CreateTransferResult result, string message)
        : base(message)
    {
        Result = result;
    }

    /// <summary>The ledger's answer: <see cref="CreateTransferResult.OverflowsDebits"/> or <see cref="CreateTransferResult.OverflowsCredits"/>.</summary>
    public CreateTransferResult Result { get; }
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
