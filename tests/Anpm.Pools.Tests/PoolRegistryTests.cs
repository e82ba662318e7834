using Anpm.Abstractions;
using Anpm.Storage.InMemory;
using Anpm.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Anpm.Pools.Tests;

public sealed class PoolRegistryTests
{
    private const string Config = """{"name":"Demo","inference":{"models":[{"id":"digits","sha256":"0x0000000000000000000000000000000000000000000000000000000000000001","price":"10"}]}}""";
    private static readonly Address Owner = Address.Parse("0x70997970c51812dc3a010c7d01b50e0d17dc79c8");
    private static readonly PoolId Demo = PoolId.Parse("demo");

    private readonly PoolRegistry _registry = new(new InMemoryAnpmStore(), TimeProvider.System);

    [Fact]
    public async Task Create_ThenReplay_CreatedThenExists()
    {
        var created = await _registry.CreateAsync(Demo, Owner, Config);
        Assert.Equal(CreatePoolResult.Created, created.Result);
        Assert.Equal(PoolStatus.Active, created.Pool!.Status);
        Assert.Equal("digits", _registry.ConfigOf(created.Pool).Inference!.Models[0].Id);
        var replay = await _registry.CreateAsync(Demo, Owner, Config.Replace("\"name\"", " \"name\"", StringComparison.Ordinal));
        Assert.Equal(CreatePoolResult.Exists, replay.Result);
    }

    [Fact]
    public async Task Create_IdOfAnotherPool_IdTakenAndNothingOverwritten()
    {
        await _registry.CreateAsync(Demo, Owner, Config);
        var taken = await _registry.CreateAsync(Demo, Address.Zero, Config.Replace("Demo", "Other", StringComparison.Ordinal));
        Assert.Equal(CreatePoolResult.IdTaken, taken.Result);
        Assert.Null(taken.Pool);
        Assert.Equal(Owner, (await _registry.GetAsync(Demo))!.Owner);
    }

    [Fact]
    public async Task Create_BadInput_NamesTheProblem()
    {
        Assert.Equal(CreatePoolResult.IdMustNotBeDefault, (await _registry.CreateAsync(default, Owner, Config)).Result);
        var invalid = await _registry.CreateAsync(Demo, Owner, """{"name":"x"}""");
        Assert.Equal(CreatePoolResult.InvalidConfig, invalid.Result);
        Assert.Contains("at least one of", invalid.Error!.Message, StringComparison.Ordinal);
        var large = await new PoolRegistry(new InMemoryAnpmStore(), TimeProvider.System, new PoolConfigLimits { MaxConfigBytes = 10 }).CreateAsync(Demo, Owner, Config);
        Assert.Equal(CreatePoolResult.ConfigTooLarge, large.Result);
        Assert.Null(await _registry.GetAsync(Demo));
    }

    [Fact]
    public async Task PauseAndResume_FollowTheMachine_AndRecordWhenTheStatusChanged()
    {
        var clock = new FakeTimeProvider(TestClock.Start);
        var registry = new PoolRegistry(new InMemoryAnpmStore(), clock);
        var created = (await registry.CreateAsync(Demo, Owner, Config)).Pool!;
        Assert.Equal(created.CreatedAt, created.StatusChangedAt);
        clock.Advance(TimeSpan.FromMinutes(5));
        var paused = await registry.PauseAsync(Demo);
        Assert.Equal((PoolStatusChangeResult.Changed, PoolStatus.Paused), (paused.Result, paused.Pool!.Status));
        Assert.Equal(clock.GetUtcNow(), (await registry.GetAsync(Demo))!.StatusChangedAt);
        var refused = await registry.PauseAsync(Demo);
        Assert.Equal(PoolStatusChangeResult.InvalidTransition, refused.Result);
        Assert.Equal("Pool is Paused: Pause is not allowed; allowed: Resume, Cancel.", refused.Error);
        var resumed = await registry.ResumeAsync(Demo);
        Assert.Equal(PoolStatus.Active, resumed.Pool!.Status);
        Assert.Equal(PoolStatusChangeResult.InvalidTransition, (await registry.ResumeAsync(Demo)).Result);
        Assert.Equal(2, (await registry.GetAsync(Demo))!.Version);
        Assert.Equal(PoolStatusChangeResult.PoolNotFound, (await registry.PauseAsync(PoolId.Parse("missing"))).Result);
    }

    [Fact]
    public async Task List_PagesInIdOrder()
    {
        foreach (var id in new[] { "b", "a", "c" })
        {
            await _registry.CreateAsync(PoolId.Parse(id), Owner, Config);
        }

        Assert.Equal(["a", "b"], (await _registry.ListAsync(null, 2)).Select(p => p.Id.ToString()));
        Assert.Equal(["c"], (await _registry.ListAsync(PoolId.Parse("b"), 2)).Select(p => p.Id.ToString()));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await _registry.ListAsync(null, 0));
    }
}
