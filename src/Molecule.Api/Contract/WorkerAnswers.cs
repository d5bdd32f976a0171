using System.Text.Json.Serialization;

namespace Molecule.Api.Contract;

/// <summary>Role <c>steps</c>: the answer the state machine's Choice reads; all three keys, null when they do not apply.</summary>
public sealed record StepAnswer(string Outcome, int? WaitSeconds, string? Error);

/// <summary>Role <c>migrate</c>: what CloudFormation was answered.</summary>
public sealed record MigrateAnswer(
    string Status,
    string RequestType,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Reason = null);

/// <summary>
/// Role <c>sweeps</c>: one tick's figures under the names of its metrics line. The counts differ by sweep
/// (<c>found</c>, <c>terminated</c>, <c>leaked</c>, …), so they are the document's other members. (Not positional: an
/// extension-data member cannot be a constructor parameter.)
/// </summary>
public sealed record SweepTickAnswer
{
    public required string Sweep { get; init; }

    [JsonExtensionData]
    // settable, not init: an init-only member is a constructor parameter to the source generator, which extension data cannot
    // be; each value is a long (registered in ApiJsonContext, so writing it needs no reflection)
    public Dictionary<string, object?> Counts { get; set; } = [];

    public required int BudgetExhausted { get; init; }

    public required int TickFailed { get; init; }

    public required double DurationMs { get; init; }

    public required string? Error { get; init; }

    public required IReadOnlyList<string> ItemErrors { get; init; }
}
