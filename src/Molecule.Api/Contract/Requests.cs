namespace Molecule.Api.Contract;

// The request bodies as the validated parse produces them (Http/*Fields.cs read each body by hand, so that every bad
// input gets its precise 4xx) and as the OpenAPI document describes them. Every field but the ones marked required may
// be left out; a field the body does not model (the canvas sends role, template, model, secrets, …) is accepted and
// ignored, so these objects are open in the document.

/// <summary><c>POST /workspaces</c>. <c>canvas: {x, y}</c> sets <c>x</c> and <c>y</c> when they are not given themselves.</summary>
public sealed record CreateWorkspaceRequest
{
    /// <summary>1–200 characters, not blank, no control characters; unique among live siblings.</summary>
    public required string Name { get; init; }

    public Guid? ParentId { get; init; }

    /// <summary>Lower-case letters, digits, '-' and '_'; <c>agent</c> when left out, <c>external</c> for an agent running elsewhere.</summary>
    public string? Runtime { get; init; }

    /// <summary>0–100; 1 when left out.</summary>
    public int? Tier { get; init; }

    public double? X { get; init; }

    public double? Y { get; init; }

    public CanvasPosition? Canvas { get; init; }

    public ComputeRequest? Compute { get; init; }
}

/// <summary>Where the canvas drew the workspace: finite numbers within ±1e9.</summary>
public sealed record CanvasPosition
{
    public double? X { get; init; }

    public double? Y { get; init; }
}

/// <summary>Where and how the box runs; every field falls back to the configured default.</summary>
public sealed record ComputeRequest
{
    /// <summary>A configured provider (<c>GET /providers</c>).</summary>
    public string? Provider { get; init; }

    public string? InstanceType { get; init; }

    /// <summary><c>persist</c> or <c>ephemeral</c> (the default).</summary>
    public string? DataPersistence { get; init; }

    public VolumeRequest? Volume { get; init; }
}

public sealed record VolumeRequest
{
    /// <summary>8–16384 GiB.</summary>
    public int? RootGb { get; init; }
}

/// <summary>
/// <c>PATCH /workspaces/{id}</c>: none of these may be null. A <c>compute.provider</c> other than the workspace's starts a
/// switch (its other fields are written with the claim, whole or not at all).
/// </summary>
public sealed record PatchWorkspaceRequest
{
    public string? Name { get; init; }

    public double? X { get; init; }

    public double? Y { get; init; }

    public bool? Collapsed { get; init; }

    public ProviderChange? Compute { get; init; }

    /// <summary>Required (true) to switch a workspace whose <c>data_persistence</c> is <c>persist</c>.</summary>
    public bool? ConfirmDataLoss { get; init; }
}

/// <summary>The one field of <c>compute</c> a PATCH may change, by a switch.</summary>
public sealed record ProviderChange
{
    public required string Provider { get; init; }
}

/// <summary><c>POST /workspaces/{id}/switch-provider</c>.</summary>
public sealed record SwitchProviderRequest
{
    public required string Provider { get; init; }

    /// <summary>Required (true) to switch a workspace whose <c>data_persistence</c> is <c>persist</c>.</summary>
    public bool? ConfirmDataLoss { get; init; }
}

/// <summary><c>PUT /sim/faults</c>: a fault on one simulated provider (or all) and one call kind (or all).</summary>
public sealed record SimFaultsRequest
{
    public string? Provider { get; init; }

    /// <summary><c>provision</c>, <c>describe</c>, <c>terminate</c>, <c>list</c> or <c>all</c> (the default).</summary>
    public string? Call { get; init; }

    /// <summary>0–1.</summary>
    public double? FailureRate { get; init; }

    /// <summary>0–60000.</summary>
    public int? LatencyMs { get; init; }

    /// <summary>That many calls fail, then the rate applies again.</summary>
    public int? FailNext { get; init; }
}

/// <summary>Role <c>steps</c>: one Task of the state machine, as the Lambda Web Adapter passes it through.</summary>
public sealed record StepRequest(string Step, Guid OperationId, string ExecutionArn);
