using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Anpm.Credits;

/// <summary>
/// Standard Webhooks signatures: <c>webhook-signature: v1,base64(HMAC-SHA256(key, "{webhook-id}.{webhook-timestamp}.{body}"))</c>,
/// the key being the base64 after <c>whsec_</c> in the endpoint's secret. A receiver verifies with <see cref="Verify"/>.
/// </summary>
public static class WebhookSignature
{
    /// <summary>The prefix of a secret.</summary>
    public const string SecretPrefix = "whsec_";

    /// <summary>A new random secret: <c>whsec_</c> + base64 of 32 random bytes.</summary>
    public static string NewSecret() => SecretPrefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    /// <summary>Whether <paramref name="secret"/> is <c>whsec_</c> + base64 of 24 to 64 bytes.</summary>
    public static bool IsValidSecret(string? secret) => TryKey(secret, out _);

    /// <summary>The <c>webhook-signature</c> header's value for a delivery.</summary>
    /// <exception cref="ArgumentException">The secret is not valid.</exception>
    public static string Sign(string secret, string id, long timestamp, string body)
    {
        ArgumentNullException.ThrowIfNull(id);
        ArgumentNullException.ThrowIfNull(body);
        if (!TryKey(secret, out var key))
        {
            throw new ArgumentException("A webhook secret is whsec_ and the base64 of 24 to 64 bytes.", nameof(secret));
        }

        var signed = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(id + "." + timestamp.ToString(CultureInfo.InvariantCulture) + "." + body));
        return "v1," + Convert.ToBase64String(signed);
    }

    /// <summary>
    /// Verifies a delivery as a receiver: one of the space-separated <c>v1,…</c> signatures matches (compared in constant
    /// time), and the timestamp is within <paramref name="tolerance"/> of <paramref name="now"/> (replays of old deliveries
    /// are refused).
    /// </summary>
    public static bool Verify(string secret, string id, string timestamp, string signatures, string body, DateTimeOffset now, TimeSpan tolerance)
    {
        if (id is null || body is null || signatures is null || !long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            || Math.Abs(now.ToUnixTimeSeconds() - seconds) > tolerance.TotalSeconds || !TryKey(secret, out _))
        {
            return false;
        }

        var expected = Encoding.ASCII.GetBytes(Sign(secret, id, seconds, body));
        return signatures.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Any(signature => CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(signature), expected));
    }

    private static bool TryKey(string? secret, out byte[] key)
    {
        key = [];
        if (secret is null || !secret.StartsWith(SecretPrefix, StringComparison.Ordinal))
        {
            return false;
        }

        try
        {
            key = Convert.FromBase64String(secret[SecretPrefix.Length..]);
        }
        catch (FormatException)
        {
            return false;
        }

        return key.Length is >= 24 and <= 64;
    }
}
