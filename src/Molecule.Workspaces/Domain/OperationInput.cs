using System.Text.Json.Serialization;

namespace Molecule.Workspaces.Domain;

/// <summary>What the operation was asked to do, fixed when it claimed the row (<c>operations.input</c>).</summary>
public sealed record OperationInput
{
    /// <summary><c>compute.provider</c> when the claim was taken.</summary>
    [JsonPropertyName("fromProvider")]
    public string? FromProvider { get; init; }

    /// <summary>The target provider of a switch; equal to <see cref="FromProvider"/> for other kinds.</summary>
    [JsonPropertyName("toProvider")]
    public string? ToProvider { get; init; }

    /// <summary>The box the row pointed at when claimed, and the provider that owns it.</summary>
    [JsonPropertyName("oldInstanceId")]
    public string? OldInstanceId { get; init; }

    [JsonPropertyName("oldInstanceProvider")]
    public string? OldInstanceProvider { get; init; }

    /// <summary>Who asked: <c>api</c>, <c>reconciler</c>.</summary>
    [JsonPropertyName("requestedBy")]
    public string? RequestedBy { get; init; }
}
