using Microsoft.Extensions.DependencyInjection;

namespace Anpm.Abstractions;

/// <summary>
/// Configures Anpm inside <c>services.AddAnpm(builder =&gt; ...)</c>. Each package adds extension methods on this
/// interface (<c>AddLedger</c>, <c>UseInMemoryStore</c>, <c>UseSqlite</c>, ...).
/// </summary>
public interface IAnpmBuilder
{
    /// <summary>The service collection Anpm is being added to.</summary>
    IServiceCollection Services { get; }
}
