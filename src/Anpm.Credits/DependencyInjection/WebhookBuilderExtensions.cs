using Anpm.Abstractions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Anpm.Credits;

/// <summary>Registers webhook endpoints and their delivery.</summary>
public static class WebhookBuilderExtensions
{
    /// <summary>
    /// Adds the <see cref="WebhookService"/> (register, disable, read endpoints) and the <see cref="WebhookDispatcher"/>
    /// (fan out and deliver events; run it periodically on one instance — Anpm.AspNetCore's job <c>webhooks</c> does).
    /// Events are written whether or not this is added; without it nothing delivers them.
    /// </summary>
    /// <param name="builder">The Anpm builder.</param>
    /// <param name="configure">Changes the retry schedule, timeout, parallelism and batch size.</param>
    /// <returns><paramref name="builder"/>, for chaining.</returns>
    public static IAnpmBuilder AddWebhooks(this IAnpmBuilder builder, Action<WebhookOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = builder.Services.AddOptions<WebhookOptions>().ValidateOnStartWith<WebhookOptions, WebhookOptionsValidator>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        builder.Services.TryAddSingleton<WebhookService>();
        builder.Services.TryAddSingleton<WebhookDispatcher>();
        return builder;
    }
}
