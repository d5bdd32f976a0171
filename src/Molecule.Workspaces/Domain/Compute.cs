using System.Text.Json.Serialization;

namespace Molecule.Workspaces.Domain;

/// <summary>The <c>compute</c> column: where and how a workspace's box runs.</summary>
public sealed record Compute
{
    public const string Persist = "persist";
    public const string Ephemeral = "ephemeral";

    [JsonPropertyName("provider")]
    public required string Provider { get; init; }

    [JsonPropertyName("instance_type")]
    public string? InstanceType { get; init; }

    [JsonPropertyName("data_persistence")]
    public string DataPersistence { get; init; } = Ephemeral;

    [JsonPropertyName("volume")]
    public ComputeVolume? Volume { get; init; }
}

public sealed record ComputeVolume
{
    [JsonPropertyName("root_gb")]
    public int? RootGb { get; init; }
}
