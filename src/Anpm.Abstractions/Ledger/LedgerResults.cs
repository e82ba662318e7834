namespace Anpm.Abstractions;

/// <summary>The outcome of creating one account; everything but <see cref="Created"/> and <see cref="Exists"/> changed nothing.</summary>
public enum CreateAccountResult
{
    /// <summary>The account was created.</summary>
    Created = 1,

    /// <summary>An identical account already existed; nothing changed (an idempotent replay).</summary>
    Exists = 2,

    /// <summary>An account with this id exists with another asset.</summary>
    ExistsWithDifferentAsset = 3,

    /// <summary>An account with this id exists with other flags.</summary>
    ExistsWithDifferentFlags = 4,

    /// <summary>The account id is the default (empty) value.</summary>
    IdMustNotBeDefault = 5,

    /// <summary>The asset is the default (empty) value.</summary>
    AssetMustNotBeDefault = 6,

    /// <summary>The asset is not configured in the ledger.</summary>
    AssetNotFound = 7,

    /// <summary>The flags hold bits that are not defined.</summary>
    FlagsAreInvalid = 8,
}

/// <summary>
/// The outcome of creating one transfer, in the style of TigerBeetle's <c>CreateTransferResult</c>. Everything but
/// <see cref="Created"/> and <see cref="Exists"/> changed nothing.
/// </summary>
public enum CreateTransferResult
{
    /// <summary>The transfer was created.</summary>
    Created = 1,

    /// <summary>A transfer with this id and the same fields already existed; nothing changed (an idempotent replay).</summary>
    Exists = 2,

    /// <summary>A transfer with this id exists with other fields: the id was reused for another transfer.</summary>
    ExistsWithDifferentFields = 3,

    /// <summary>Another transfer of the same linked chain failed, so this one was not applied.</summary>
    LinkedEventFailed = 4,

    /// <summary>The batch ended inside a linked chain (its last transfer has <see cref="TransferFlags.Linked"/>).</summary>
    LinkedEventChainOpen = 5,

    /// <summary>The transfer id is the default (empty) value.</summary>
    IdMustNotBeDefault = 6,

    /// <summary>The flags hold undefined bits, or more than one of pending, post and void.</summary>
    FlagsAreInvalid = 7,

    /// <summary>The debit account id is missing.</summary>
    DebitAccountIdMustNotBeDefault = 8,

    /// <summary>The credit account id is missing.</summary>
    CreditAccountIdMustNotBeDefault = 9,

    /// <summary>The debit and credit accounts are the same.</summary>
    AccountsMustBeDifferent = 10,

    /// <summary>The asset is missing.</summary>
    AssetMustNotBeDefault = 11,

    /// <summary>The asset is not configured in the ledger.</summary>
    AssetNotFound = 12,

    /// <summary>The amount is missing or zero.</summary>
    AmountMustNotBeZero = 13,

    /// <summary>The kind is missing.</summary>
    KindMustNotBeDefault = 14,

    /// <summary>The reference is longer than <see cref="TransferRequest.MaxReferenceLength"/> or holds control characters.</summary>
    ReferenceIsInvalid = 15,

    /// <summary>A pending id was given for a transfer that is neither a post nor a void.</summary>
    PendingIdMustBeDefault = 16,

    /// <summary>A post or void names no pending transfer.</summary>
    PendingIdMustNotBeDefault = 17,

    /// <summary>A post or void names itself as the pending transfer.</summary>
    PendingIdMustBeDifferent = 18,

    /// <summary>A timeout was given for a transfer that is not pending.</summary>
    TimeoutReservedForPendingTransfer = 19,

    /// <summary>The timeout exceeds the ledger's configured maximum.</summary>
    TimeoutExceedsMaximum = 20,

    /// <summary>The debit account does not exist.</summary>
    DebitAccountNotFound = 21,

    /// <summary>The credit account does not exist.</summary>
    CreditAccountNotFound = 22,

    /// <summary>An account holds another asset than the transfer.</summary>
    AccountAssetMismatch = 23,

    /// <summary>The pending transfer named by a post or void does not exist.</summary>
    PendingTransferNotFound = 24,

    /// <summary>The transfer named by a post or void is not a pending transfer.</summary>
    PendingTransferNotPending = 25,

    /// <summary>The pending transfer was already posted.</summary>
    PendingTransferAlreadyPosted = 26,

    /// <summary>The pending transfer was already voided.</summary>
    PendingTransferAlreadyVoided = 27,

    /// <summary>The pending transfer expired.</summary>
    PendingTransferExpired = 28,

    /// <summary>A post or void names a debit account other than the pending transfer's.</summary>
    PendingTransferHasDifferentDebitAccountId = 29,

    /// <summary>A post or void names a credit account other than the pending transfer's.</summary>
    PendingTransferHasDifferentCreditAccountId = 30,

    /// <summary>A post or void names an asset other than the pending transfer's.</summary>
    PendingTransferHasDifferentAsset = 31,

    /// <summary>A post asks for more than the pending amount.</summary>
    ExceedsPendingTransferAmount = 32,

    /// <summary>A void names an amount other than the pending amount.</summary>
    PendingTransferHasDifferentAmount = 33,

    /// <summary>The debit account must not go negative and does not hold enough.</summary>
    ExceedsBalance = 34,

    /// <summary>The debit account's totals would exceed the largest amount.</summary>
    OverflowsDebits = 35,

    /// <summary>The credit account's totals would exceed the largest amount.</summary>
    OverflowsCredits = 36,
}

/// <summary>Whether a result of <see cref="CreateTransferResult"/> or <see cref="CreateAccountResult"/> means the event is in the ledger.</summary>
public static class LedgerResultExtensions
{
    /// <summary><see langword="true"/> for <see cref="CreateTransferResult.Created"/> and <see cref="CreateTransferResult.Exists"/>.</summary>
    public static bool IsSuccess(this CreateTransferResult result) =>
        result is CreateTransferResult.Created or CreateTransferResult.Exists;

    /// <summary>
    /// <see langword="true"/> for <see cref="CreateTransferResult.OverflowsDebits"/> and
    /// <see cref="CreateTransferResult.OverflowsCredits"/>: an amount that fits 128 bits would push an account's totals past them.
    /// </summary>
    public static bool IsOverflow(this CreateTransferResult result) =>
        result is CreateTransferResult.OverflowsDebits or CreateTransferResult.OverflowsCredits;

    /// <summary>
    /// The exception for a ledger refusal a command did not expect: <see cref="AnpmConcurrencyException"/> for
    /// <see cref="CreateTransferResult.Exists"/> (a concurrent unit of work created it after the command's checks: retrying
    /// sees it), <see cref="LedgerOverflowException"/> when the refusal is an overflow (the caller's input was too large,
    /// not a defect), else <see cref="AnpmException"/>.
    /// </summary>
    /// <param name="result">The ledger's refusal.</param>
    /// <param name="what">What failed, e.g. <c>Holding the price of task 't-1'</c>.</param>
    public static AnpmException ToException(this CreateTransferResult result, string what) => result switch
    {
        CreateTransferResult.Exists => new AnpmConcurrencyException($"{what}: the transfer was created by a concurrent unit of work; retry."),
        _ when result.IsOverflow() => new LedgerOverflowException(result, $"{what} failed: {result}."),
        _ => new AnpmException($"{what} failed: {result}."),
    };

    /// <summary><see langword="true"/> for <see cref="CreateAccountResult.Created"/> and <see cref="CreateAccountResult.Exists"/>.</summary>
    public static bool IsSuccess(this CreateAccountResult result) =>
        result is CreateAccountResult.Created or CreateAccountResult.Exists;
}
