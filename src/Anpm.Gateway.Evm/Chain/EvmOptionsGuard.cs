using Microsoft.Extensions.Options;

namespace Anpm.Gateway.Evm;

/// <summary>Validates a gateway service's options when it is built, throwing with every failure named.</summary>
internal static class EvmOptionsGuard
{
    public static T Valid<T>(IOptions<T> options, IValidateOptions<T> validator)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(options);
        var validation = validator.Validate(Options.DefaultName, options.Value);
        return validation.Failed ? throw new OptionsValidationException(Options.DefaultName, typeof(T), validation.Failures) : options.Value;
    }
}
