using Anpm.Abstractions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Anpm.Signing;

/// <summary>Registers Anpm's signing services.</summary>
public static class SigningBuilderExtensions
{
    /// <summary>
    /// Adds the <see cref="ISecp256k1"/> backend (libsecp256k1 when present, else managed) and the
    /// <see cref="SignedRequestVerifier"/> with its options, validated at start-up. Safe to call more than once.
    /// </summary>
    /// <param name="builder">The Anpm builder.</param>
    /// <param name="configure">Sets the domain (at least <see cref="SignedRequestOptions.VerifyingContract"/>).</param>
    /// <returns><paramref name="builder"/>, for chaining.</returns>
    public static IAnpmBuilder AddSigning(this IAnpmBuilder builder, Action<SignedRequestOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = builder.Services.AddOptions<SignedRequestOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        if (!builder.Services.Any(static d => d.ServiceType == typeof(SigningMarker)))
        {
            builder.Services.AddSingleton<SigningMarker>();
            options.ValidateOnStart();
        }

        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SignedRequestOptions>, SignedRequestOptionsValidator>());
        // Registered as an instance: the process-wide backend must not be disposed with a service provider.
        builder.Services.TryAddSingleton(Secp256k1Backends.Default);
        builder.Services.TryAddSingleton(static services => new SignedRequestVerifier(
            services.GetRequiredService<IOptions<SignedRequestOptions>>(),
            services.GetRequiredService<TimeProvider>(),
            services.GetRequiredService<ISecp256k1>()));
        return builder;
    }

    private sealed class SigningMarker;
}
