using System.Text.Json.Serialization;

namespace Molecule.Workspaces.Domain;

/// <summary>
/// What an operation has done so far (<c>operations.progress</c>). Every step reads it first to answer
/// "already done?", so a step that runs twice, or after a crash, repeats no side effect; rollback
/// compensates by it.
/// </summary>
public sealed record OperationProgress
{
    [JsonPropertyName("stopped")]
    public bool Stopped { get; init; }

    [JsonPropertyName("stopExhausted")]
    public bool StopExhausted { get; init; }

    [JsonPropertyName("providerWritten")]
    public bool ProviderWritten { get; init; }

    /// <summary>Recorded before the row is written, so a crash in between leaves the box owned by this operation, not leaked.</summary>
    [JsonPropertyName("newInstanceId")]
    public string? NewInstanceId { get; init; }

    [JsonPropertyName("newInstanceProvider")]
    public string? NewInstanceProvider { get; init; }

    [JsonPropertyName("instanceWritten")]
    public bool InstanceWritten { get; init; }

    [JsonPropertyName("awaitStartedAt")]
    public DateTimeOffset? AwaitStartedAt { get; init; }

    [JsonPropertyName("running")]
    public bool Running { get; init; }

    /// <summary>Provider-call attempts per step, for the step-owned retry counting of DESIGN §5.2.</summary>
    // settable, not init: source-generated deserialisation sets init-only properties that are absent to null
    [JsonPropertyName("attempts")]
    public Dictionary<string, int> Attempts { get; set; } = new(StringComparer.Ordinal);

    [JsonPropertyName("lastError")]
    public string? LastError { get; init; }

    public int AttemptsOf(string step) => Attempts?.GetValueOrDefault(step) ?? 0;

    public OperationProgress WithAttempt(string step, string? error)
    {
        var attempts = new Dictionary<string, int>(Attempts ?? [], StringComparer.Ordinal) { [step] = AttemptsOf(step) + 1 };
        return this with { Attempts = attempts, LastError = error };
    }
}
