using System.Text;

namespace Anpm.Pools;

/// <summary>One row of a state machine's transition table.</summary>
/// <typeparam name="TStatus">The status enum.</typeparam>
/// <typeparam name="TTrigger">The trigger enum.</typeparam>
/// <param name="From">The status the transition leaves.</param>
/// <param name="Trigger">What fires it.</param>
/// <param name="To">The status it enters.</param>
/// <param name="When">When and by whom it may fire, in words.</param>
public sealed record StateTransition<TStatus, TTrigger>(TStatus From, TTrigger Trigger, TStatus To, string When)
    where TStatus : struct, Enum
    where TTrigger : struct, Enum;

/// <summary>The outcome of firing a trigger: the new status, or a refusal naming the current status.</summary>
/// <typeparam name="TStatus">The status enum.</typeparam>
/// <param name="IsAllowed">Whether the table has a row for the (status, trigger) pair.</param>
/// <param name="Status">The new status when allowed; the unchanged current status when refused.</param>
/// <param name="Error">Why it was refused, naming the current status and what it allows; <see langword="null"/> when allowed.</param>
public readonly record struct TransitionResult<TStatus>(bool IsAllowed, TStatus Status, string? Error)
    where TStatus : struct, Enum;

/// <summary>
/// A state machine whose transition table is data: it can be listed, rendered as a Mermaid diagram and tested
/// exhaustively. Firing a trigger that has no row for the current status is refused with a message naming that status.
/// </summary>
/// <typeparam name="TStatus">The status enum.</typeparam>
/// <typeparam name="TTrigger">The trigger enum.</typeparam>
public sealed class StateMachine<TStatus, TTrigger>
    where TStatus : struct, Enum
    where TTrigger : struct, Enum
{
    private readonly Dictionary<(TStatus, TTrigger), StateTransition<TStatus, TTrigger>> _table;

    /// <summary>Creates a machine from its initial status and its transitions.</summary>
    /// <param name="name">The machine's name, for messages and diagrams.</param>
    /// <param name="initial">The status every instance starts in.</param>
    /// <param name="transitions">The table; at most one row per (status, trigger).</param>
    /// <exception cref="ArgumentException">Two rows share a (status, trigger), or a row uses an undefined enum value.</exception>
    public StateMachine(string name, TStatus initial, IEnumerable<StateTransition<TStatus, TTrigger>> transitions)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(transitions);
        Name = name;
        Initial = initial;
        Transitions = transitions.ToList();
        _table = [];
        foreach (var transition in Transitions)
        {
            if (!Enum.IsDefined(transition.From) || !Enum.IsDefined(transition.To) || !Enum.IsDefined(transition.Trigger))
            {
                throw new ArgumentException($"{name}: {transition} uses an undefined value.", nameof(transitions));
            }

            if (!_table.TryAdd((transition.From, transition.Trigger), transition))
            {
                throw new ArgumentException($"{name}: two transitions leave {transition.From} on {transition.Trigger}.", nameof(transitions));
            }
        }
    }

    /// <summary>The machine's name.</summary>
    public string Name { get; }

    /// <summary>The status every instance starts in.</summary>
    public TStatus Initial { get; }

    /// <summary>The transition table, in declaration order.</summary>
    public IReadOnlyList<StateTransition<TStatus, TTrigger>> Transitions { get; }

    /// <summary>The triggers allowed in a status.</summary>
    public IEnumerable<TTrigger> AllowedTriggers(TStatus status) => Transitions.Where(t => t.From.Equals(status)).Select(t => t.Trigger);

    /// <summary>Fires a trigger in a status.</summary>
    /// <returns>The new status, or a refusal naming <paramref name="current"/> and the triggers it allows.</returns>
    public TransitionResult<TStatus> Fire(TStatus current, TTrigger trigger)
    {
        if (_table.TryGetValue((current, trigger), out var transition))
        {
            return new TransitionResult<TStatus>(true, transition.To, null);
        }

        var allowed = AllowedTriggers(current).Select(t => t.ToString()).ToList();
        return new TransitionResult<TStatus>(false, current,
            $"{Name} is {current}: {trigger} is not allowed" + (allowed.Count == 0 ? $" ({current} is final)." : $"; allowed: {string.Join(", ", allowed)}."));
    }

    /// <summary>The machine as a Mermaid <c>stateDiagram-v2</c>, one line per transition, final statuses marked.</summary>
    public string ToMermaid()
    {
        var builder = new StringBuilder();
        builder.AppendLine("stateDiagram-v2");
        builder.Append("    [*] --> ").AppendLine(Initial.ToString());
        foreach (var transition in Transitions)
        {
            builder.Append("    ").Append(transition.From).Append(" --> ").Append(transition.To).Append(" : ").AppendLine(transition.Trigger.ToString());
        }

        foreach (var status in Enum.GetValues<TStatus>().Where(s => !Transitions.Any(t => t.From.Equals(s)) && Transitions.Any(t => t.To.Equals(s))))
        {
            builder.Append("    ").Append(status).AppendLine(" --> [*]");
        }

        return builder.ToString();
    }
}
