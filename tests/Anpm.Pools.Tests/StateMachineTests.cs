using Anpm.Abstractions;

namespace Anpm.Pools.Tests;

public sealed class StateMachineTests
{
    // The expected tables, written out independently of the implementation (docs/reference/flows.md and the wire contract's status numbers).
    private static readonly HashSet<(PoolStatus, PoolTrigger, PoolStatus)> PoolRows =
    [
        (PoolStatus.Active, PoolTrigger.Pause, PoolStatus.Paused),
        (PoolStatus.Paused, PoolTrigger.Resume, PoolStatus.Active),
        (PoolStatus.Active, PoolTrigger.StartFunding, PoolStatus.Funding),
        (PoolStatus.Funding, PoolTrigger.StartDistributing, PoolStatus.Distributing),
        (PoolStatus.Active, PoolTrigger.Cancel, PoolStatus.Canceled),
        (PoolStatus.Funding, PoolTrigger.Cancel, PoolStatus.Canceled),
        (PoolStatus.Paused, PoolTrigger.Cancel, PoolStatus.Canceled),
        (PoolStatus.Distributing, PoolTrigger.Close, PoolStatus.Closed),
        (PoolStatus.Canceled, PoolTrigger.Close, PoolStatus.Closed),
    ];

    private static readonly HashSet<(ContributionStatus, ContributionTrigger, ContributionStatus)> ContributionRows =
    [
        (ContributionStatus.PendingPayment, ContributionTrigger.Pay, ContributionStatus.Paid),
        (ContributionStatus.PendingPayment, ContributionTrigger.Cancel, ContributionStatus.Canceled),
        (ContributionStatus.Paid, ContributionTrigger.MakePayoutAvailable, ContributionStatus.AvailablePayout),
        (ContributionStatus.Paid, ContributionTrigger.MakeRefundAvailable, ContributionStatus.AvailableRefund),
        (ContributionStatus.AvailablePayout, ContributionTrigger.Claim, ContributionStatus.PendingPayout),
        (ContributionStatus.AvailableRefund, ContributionTrigger.Claim, ContributionStatus.PendingPayout),
        (ContributionStatus.PendingPayout, ContributionTrigger.ConfirmReward, ContributionStatus.RewardPaidout),
        (ContributionStatus.PendingPayout, ContributionTrigger.ConfirmRefund, ContributionStatus.RefundPaidout),
    ];

    [Fact]
    public void Pool_EveryStatusAndTrigger_MatchesTheDesignTable() => WalkEveryPair(PoolStateMachine.Definition, PoolRows);

    [Fact]
    public void Contribution_EveryStatusAndTrigger_MatchesTheDesignTable() => WalkEveryPair(ContributionStateMachine.Definition, ContributionRows);

    [Fact]
    public void StatusNumbers_AreTheSeeds()
    {
        Assert.Equal([1, 2, 3, 4, 5, 7], Enum.GetValues<PoolStatus>().Select(s => (int)s));
        Assert.Equal([1, 2, 3, 4, 5, 6, 7, 8], Enum.GetValues<ContributionStatus>().Select(s => (int)s));
        Assert.Equal(PoolStatus.Active, PoolStateMachine.Definition.Initial);
        Assert.Equal(ContributionStatus.PendingPayment, ContributionStateMachine.Definition.Initial);
    }

    [Fact]
    public void Refusal_NamesTheCurrentStatusAndWhatItAllows()
    {
        var refused = PoolStateMachine.Definition.Fire(PoolStatus.Funding, PoolTrigger.Pause);
        Assert.False(refused.IsAllowed);
        Assert.Equal(PoolStatus.Funding, refused.Status);
        Assert.Equal("Pool is Funding: Pause is not allowed; allowed: StartDistributing, Cancel.", refused.Error);
        Assert.Equal("Pool is Closed: Resume is not allowed (Closed is final).", PoolStateMachine.Definition.Fire(PoolStatus.Closed, PoolTrigger.Resume).Error);
    }

    [Fact]
    public void Mermaid_RendersEveryTransitionAndFinalStatus()
    {
        Assert.Equal(
            """
            stateDiagram-v2
                [*] --> Active
                Active --> Paused : Pause
                Paused --> Active : Resume
                Active --> Funding : StartFunding
                Funding --> Distributing : StartDistributing
                Active --> Canceled : Cancel
                Funding --> Canceled : Cancel
                Paused --> Canceled : Cancel
                Distributing --> Closed : Close
                Canceled --> Closed : Close
                Closed --> [*]

            """.ReplaceLineEndings("\n"),
            PoolStateMachine.Definition.ToMermaid().ReplaceLineEndings("\n"));
        var contribution = ContributionStateMachine.Definition.ToMermaid();
        Assert.Contains("    PendingPayout --> RefundPaidout : ConfirmRefund", contribution, StringComparison.Ordinal);
        foreach (var final in new[] { "Canceled", "RewardPaidout", "RefundPaidout" })
        {
            Assert.Contains($"    {final} --> [*]", contribution, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Table_DuplicateRow_Refused()
    {
        var error = Assert.Throws<ArgumentException>(() => new StateMachine<PoolStatus, PoolTrigger>("Broken", PoolStatus.Active,
        [
            new(PoolStatus.Active, PoolTrigger.Pause, PoolStatus.Paused, "x"),
            new(PoolStatus.Active, PoolTrigger.Pause, PoolStatus.Canceled, "y"),
        ]));
        Assert.Contains("two transitions leave Active on Pause", error.Message, StringComparison.Ordinal);
    }

    private static void WalkEveryPair<TStatus, TTrigger>(StateMachine<TStatus, TTrigger> machine, HashSet<(TStatus, TTrigger, TStatus)> expected)
        where TStatus : struct, Enum
        where TTrigger : struct, Enum
    {
        var pairs = 0;
        foreach (var status in Enum.GetValues<TStatus>())
        {
            foreach (var trigger in Enum.GetValues<TTrigger>())
            {
                pairs++;
                var result = machine.Fire(status, trigger);
                var row = expected.SingleOrDefault(r => r.Item1.Equals(status) && r.Item2.Equals(trigger));
                if (expected.Any(r => r.Item1.Equals(status) && r.Item2.Equals(trigger)))
                {
                    Assert.True(result.IsAllowed, $"{status} + {trigger} should be allowed.");
                    Assert.Equal(row.Item3, result.Status);
                    Assert.Null(result.Error);
                }
                else
                {
                    Assert.False(result.IsAllowed, $"{status} + {trigger} should be refused.");
                    Assert.Equal(status, result.Status);
                    Assert.StartsWith($"{machine.Name} is {status}: {trigger} is not allowed", result.Error, StringComparison.Ordinal);
                }
            }
        }

        Assert.Equal(Enum.GetValues<TStatus>().Length * Enum.GetValues<TTrigger>().Length, pairs);
        Assert.Equal(expected.Count, machine.Transitions.Count);
    }
}
