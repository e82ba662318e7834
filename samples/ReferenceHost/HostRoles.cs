using System.Security.Cryptography;
using System.Text.Json;
using Anpm.Abstractions;
using Anpm.Signing;

namespace Anpm.ReferenceHost;

/// <summary>
/// The addresses of the host's roles: configured, or — in Development only — development keys generated once into the
/// data folder (<c>dev-keys.json</c>, private keys in hex) and printed at start. Outside Development every role is
/// configured (the options' validation refuses to start otherwise) and no key file is read or written.
/// </summary>
public sealed class HostRoles
{
    private HostRoles(Address manager, IReadOnlyList<Address> admins, Address feeder, Address treasury, Address gateway, string? oracleKeyHex, string? keyFile)
    {
        Manager = manager;
        Admins = admins;
        Feeder = feeder;
        Treasury = treasury;
        Gateway = gateway;
        OracleKeyHex = oracleKeyHex;
        KeyFile = keyFile;
    }

    /// <summary>The pool manager's address: the EIP-712 verifying contract, where tokens are sent.</summary>
    public Address Manager { get; }

    /// <summary>The admins.</summary>
    public IReadOnlyList<Address> Admins { get; }

    /// <summary>The exchange-rate feeder.</summary>
    public Address Feeder { get; }

    /// <summary>The treasury.</summary>
    public Address Treasury { get; }

    /// <summary>The token gateway (signs credit notices).</summary>
    public Address Gateway { get; }

    /// <summary>The in-process oracle node's private key (hex), from the development keys.</summary>
    public string? OracleKeyHex { get; }

    /// <summary>The development key file, when one was used.</summary>
    public string? KeyFile { get; }

    /// <summary>
    /// Resolves the roles from the options; in Development, creates the development key file when some role is not
    /// configured.
    /// </summary>
    public static HostRoles Resolve(AnpmHostOptions options, string dataFolder, bool development)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!development)
        {
            string? oracleHex = null;
            if (options.Oracle.InProcess == true)
            {
                using var oracleKey = EthereumKey.FromHex(options.Oracle.KeyHex!);
                oracleHex = options.Oracle.KeyHex;
            }

            return new HostRoles(Address.Parse(options.ManagerAddress!), [.. options.Admins.Select(Address.Parse)], Address.Parse(options.Feeder!),
                Address.Parse(options.Treasury!), Address.Parse(options.Gateway!), oracleHex, keyFile: null);
        }

        var keyFile = Path.Combine(dataFolder, "dev-keys.json");
        Dictionary<string, string> keys;
        if (File.Exists(keyFile))
        {
            keys = JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(keyFile)) ?? [];
        }
        else
        {
            keys = [];
        }

        var changed = false;
        Address Dev(string role)
        {
            if (!keys.TryGetValue(role, out var hex))
            {
                hex = "0x" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
                keys[role] = hex;
                changed = true;
            }

            using var key = EthereumKey.FromHex(hex);
            return key.Address;
        }

        Address Role(string? configured, string role) => configured is { } text ? Address.Parse(text) : Dev(role);
        var manager = Role(options.ManagerAddress, "manager");
        IReadOnlyList<Address> admins = options.Admins.Count > 0 ? [.. options.Admins.Select(Address.Parse)] : [Dev("admin")];
        var feeder = Role(options.Feeder, "feeder");
        var treasury = Role(options.Treasury, "treasury");
        var gateway = Role(options.Gateway, "gateway");
        var oracle = options.Oracle.InProcess != true ? (default(Address), (string?)null)
            : options.Oracle.KeyHex is { } configuredOracle ? (default(Address), configuredOracle)
            : (Dev("oracle"), keys["oracle"]);
        if (changed)
        {
            Directory.CreateDirectory(dataFolder);
            File.WriteAllText(keyFile, JsonSerializer.Serialize(keys, new JsonSerializerOptions { WriteIndented = true }));
        }

        return new HostRoles(manager, admins, feeder, treasury, gateway, oracle.Item2, keys.Count > 0 ? keyFile : null);
    }

    /// <summary>Whether <paramref name="address"/> is an admin.</summary>
    public bool IsAdmin(Address address) => Admins.Contains(address);
}
