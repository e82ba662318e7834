using Anpm.Abstractions;
using Microsoft.Extensions.Options;

namespace Anpm.AspNetCore;

/// <summary>The fixed roles a signed route may require of its signer (pool owners are checked by the route itself).</summary>
[Flags]
public enum AnpmRole
{
    /// <summary>Anyone whose signature verifies.</summary>
    None = 0,

    /// <summary>One of <see cref="AnpmApiOptions.Admins"/>.</summary>
    Admin = 1,

    /// <summary><see cref="AnpmApiOptions.Feeder"/>.</summary>
    Feeder = 2,

    /// <summary><see cref="AnpmApiOptions.Gateway"/>.</summary>
    Gateway = 4,
}

/// <summary>Who holds which role, from <see cref="AnpmApiOptions"/>.</summary>
public sealed class AnpmRoles(IOptions<AnpmApiOptions> options)
{
    private readonly AnpmApiOptions _options = (options ?? throw new ArgumentNullException(nameof(options))).Value;

    /// <summary>The admins.</summary>
    public IReadOnlyList<Address> Admins => [.. _options.Admins];

    /// <summary>The exchange-rate feeder, when one is configured.</summary>
    public Address? Feeder => _options.Feeder;

    /// <summary>The token gateway, when one is configured.</summary>
    public Address? Gateway => _options.Gateway;

    /// <summary>Whether <paramref name="address"/> is an admin.</summary>
    public bool IsAdmin(Address address) => _options.Admins.Contains(address);

    /// <summary>Whether <paramref name="address"/> holds one of <paramref name="roles"/> (any address for <see cref="AnpmRole.None"/>).</summary>
    public bool HoldsAny(Address address, AnpmRole roles) =>
        roles == AnpmRole.None
        || ((roles & AnpmRole.Admin) != 0 && IsAdmin(address))
        || ((roles & AnpmRole.Feeder) != 0 && _options.Feeder == address)
        || ((roles & AnpmRole.Gateway) != 0 && _options.Gateway == address);

    /// <summary>The role requirement in words, e.g. "the feeder or an admin".</summary>
    public static string Describe(AnpmRole roles)
    {
        var names = new List<string>();
        if ((roles & AnpmRole.Gateway) != 0)
        {
            names.Add("the gateway");
        }

        if ((roles & AnpmRole.Feeder) != 0)
        {
            names.Add("the feeder");
        }

        if ((roles & AnpmRole.Admin) != 0)
        {
            names.Add("an admin");
        }

        return string.Join(" or ", names);
    }
}
