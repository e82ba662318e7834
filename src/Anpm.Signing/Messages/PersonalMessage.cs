using System.Globalization;
using System.Text;
using Anpm.Abstractions;

namespace Anpm.Signing;

/// <summary>EIP-191 version 0x45 (<c>personal_sign</c>): the hash of "\x19Ethereum Signed Message:\n" + length + message.</summary>
public static class PersonalMessage
{
    /// <summary>The hash a wallet signs for <c>personal_sign</c> of <paramref name="message"/>.</summary>
    public static byte[] Hash(ReadOnlySpan<byte> message)
    {
        var prefix = Encoding.ASCII.GetBytes("\u0019Ethereum Signed Message:\n" + message.Length.ToString(CultureInfo.InvariantCulture));
        var data = new byte[prefix.Length + message.Length];
        prefix.CopyTo(data, 0);
        message.CopyTo(data.AsSpan(prefix.Length));
        return Keccak256.Hash(data);
    }

    /// <summary>The hash for <c>personal_sign</c> of a UTF-8 text.</summary>
    public static byte[] Hash(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return Hash(Encoding.UTF8.GetBytes(message));
    }
}
