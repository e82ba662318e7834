using Anpm.Storage;

namespace Anpm.Abstractions.Tests;

public sealed class AsyncExclusiveLockTests
{
    [Fact]
    public async Task Enter_WhileHeld_WaitsUntilExit()
    {
        var gate = new AsyncExclusiveLock();
        await gate.EnterAsync(CancellationToken.None);
        var second = gate.EnterAsync(CancellationToken.None).AsTask();
        await Task.Delay(30);
        Assert.False(second.IsCompleted);
        gate.Exit();
        await second.WaitAsync(TimeSpan.FromSeconds(60));
        gate.Exit();
        await gate.EnterAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Enter_Canceled_NeverReceivesTheLockAndOthersStillDo()
    {
        var gate = new AsyncExclusiveLock();
        await gate.EnterAsync(CancellationToken.None);
        using var cancel = new CancellationTokenSource();
        var canceled = gate.EnterAsync(cancel.Token).AsTask();
        var next = gate.EnterAsync(CancellationToken.None).AsTask();
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => canceled);
        gate.Exit();
        await next.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Throws<OperationCanceledException>(() => gate.EnterAsync(cancel.Token).AsTask().GetAwaiter().GetResult());
    }

    [Fact]
    public async Task ManyContenders_MutualExclusionAndNoLostWakeUp()
    {
        var gate = new AsyncExclusiveLock();
        var inside = 0;
        var total = 0;
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            for (var i = 0; i < 20_000; i++)
            {
                await gate.EnterAsync(CancellationToken.None);
                Assert.Equal(1, Interlocked.Increment(ref inside));
                total++;
                if (i % 1000 == 0)
                {
                    await Task.Yield();
                }

                Interlocked.Decrement(ref inside);
                gate.Exit();
            }
        }))).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(160_000, total);
    }
}
