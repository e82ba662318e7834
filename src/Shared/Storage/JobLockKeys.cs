using Anpm.Abstractions;

namespace Anpm.Storage;

/// <summary>The rule every store's job lock keys follow.</summary>
internal static class JobLockKeys
{
    /// <summary>Checks a job lock key: 1 to <see cref="IJobLockProvider.MaxKeyLength"/> characters.</summary>
    /// <exception cref="ArgumentException">The key is empty or too long.</exception>
    public static void Validate(string key)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        if (key.Length > IJobLockProvider.MaxKeyLength)
        {
            throw new ArgumentException($"A job lock key has at most {IJobLockProvider.MaxKeyLength} characters, not {key.Length}.", nameof(key));
        }
    }
}
