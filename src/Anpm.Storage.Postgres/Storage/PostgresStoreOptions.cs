using Microsoft.Extensions.Options;

namespace Anpm.Storage.Postgres;

/// <summary>Options of the <see cref="PostgresAnpmStore"/>; validated when the store is created.</summary>
public sealed class PostgresStoreOptions
{
    /// <summary>The Npgsql connection string, e.g. <c>Host=db;Database=anpm;Username=anpm;Password=…</c>. Required.</summary>
    public string ConnectionString { get; set; } = string.Empty;

    /// <summary>The schema holding Anpm's tables, created if missing. Default <c>anpm</c>; lowercase letters, digits and _, at most 63.</summary>
    public string Schema { get; set; } = "anpm";
}

/// <summary>Validates <see cref="PostgresStoreOptions"/>; every failure names the option.</summary>
public sealed class PostgresStoreOptionsValidator : IValidateOptions<PostgresStoreOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, PostgresStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            failures.Add($"{nameof(PostgresStoreOptions)}.{nameof(PostgresStoreOptions.ConnectionString)} is required, e.g. \"Host=localhost;Database=anpm;Username=anpm\".");
        }
        else
        {
            try
            {
                _ = new Npgsql.NpgsqlConnectionStringBuilder(options.ConnectionString);
            }
            catch (ArgumentException exception)
            {
                failures.Add($"{nameof(PostgresStoreOptions)}.{nameof(PostgresStoreOptions.ConnectionString)} is not a PostgreSQL connection string: {exception.Message}");
            }
        }

        if (string.IsNullOrEmpty(options.Schema) || options.Schema.Length > 63 || !char.IsAsciiLetterLower(options.Schema[0])
            || !options.Schema.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_'))
        {
            failures.Add($"{nameof(PostgresStoreOptions)}.{nameof(PostgresStoreOptions.Schema)} must be 1 to 63 lowercase letters, digits and _, starting with a letter, not '{options.Schema}'.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
