namespace Molecule.Api.Contract;

/// <summary>A one-word answer: <c>/healthz</c> (<c>ok</c>), <c>/readyz</c> (<c>ready</c>), <c>DELETE /sim/faults</c> (<c>cleared</c>).</summary>
public sealed record StatusAnswer(string Status);

/// <summary>One configured provider (<c>GET /providers</c>).</summary>
public sealed record ProviderAnswer(string Name, string Type, bool Default);

/// <summary>One box of a simulated cloud (<c>GET /sim/instances</c>).</summary>
public sealed record SimInstanceAnswer(string Provider, string InstanceId, string State, IReadOnlyDictionary<string, string> Tags, DateTimeOffset LaunchedAt);

/// <summary><c>POST /sim/instances/{provider}/{instance_id}/kill</c> → 200.</summary>
public sealed record SimKillAnswer(string Provider, string InstanceId, string State);

/// <summary><c>PUT /sim/faults</c> → 200: the providers the fault was set on.</summary>
public sealed record SimFaultsAnswer(string Status, IReadOnlyList<string> Providers);
