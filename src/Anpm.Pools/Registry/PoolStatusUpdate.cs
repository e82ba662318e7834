using System.Text.Json.Nodes;
using Anpm.Abstractions;
using Anpm.Credits;

namespace Anpm.Pools;

/// <summary>The one way a pool's status is written: the versioned update and its <c>pool.status_changed</c> event, in one unit of work.</summary>
internal static class PoolStatusUpdate
{
    public static async ValueTask ApplyAsync(IAnpmUnitOfWork unitOfWork, PoolRecord pool, PoolStatus status, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await unitOfWork.Pools.UpdatePoolStatusAsync(pool.Id, pool.Version, status, now, cancellationToken).ConfigureAwait(false);
        await unitOfWork.Events.AppendAsync(AnpmEventTypes.PoolStatusChanged, $"{pool.Id}:{pool.Version + 1}",
            new JsonObject { ["poolId"] = pool.Id.ToString(), ["from"] = pool.Status.ToString(), ["to"] = status.ToString() }, now, cancellationToken).ConfigureAwait(false);
    }
}
