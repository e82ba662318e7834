using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Anpm;

/// <summary>
/// Options read through their validator: the one place a rule lives is its <see cref="IValidateOptions{TOptions}"/>,
/// which the package's registration also runs at start (<c>ValidateOnStart</c>); a service built by hand (without a
/// host) reads its options through this, so invalid options never reach it either. Internal shared source.
/// </summary>
internal static class ValidatedOptions
{
    /// <summary>The options' value, or the validator's failures as an <see cref="OptionsValidationException"/>.</summary>
    public static T Value<T>(IOptions<T> options, IValidateOptions<T> validator)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(options);
        var value = options.Value;
        var validation = validator.Validate(Options.DefaultName, value);
        return validation.Failed ? throw new OptionsValidationException(Options.DefaultName, typeof(T), validation.Failures) : value;
    }

    /// <summary>The options object itself when valid, or the validator's failures as an <see cref="OptionsValidationException"/> (services given options without <see cref="IOptions{TOptions}"/>).</summary>
    public static T Value<T>(T options, IValidateOptions<T> validator)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(options);
        var validation = validator.Validate(Options.DefaultName, options);
        return validation.Failed ? throw new OptionsValidationException(Options.DefaultName, typeof(T), validation.Failures) : options;
    }

    /// <summary>
    /// Registers <typeparamref name="TValidator"/> for the options and validates them at start — once, however often the
    /// package's registration runs (each later call only adds its configuration).
    /// </summary>
    public static OptionsBuilder<T> ValidateOnStartWith<T, TValidator>(this OptionsBuilder<T> builder)
        where T : class
        where TValidator : class, IValidateOptions<T>
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (!builder.Services.Any(static d => d.ServiceType == typeof(IValidateOptions<T>) && d.ImplementationType == typeof(TValidator)))
        {
            builder.Services.AddSingleton<IValidateOptions<T>, TValidator>();
            builder.ValidateOnStart();
        }

        return builder;
    }
}
