namespace Molecule.Workspaces.Providers;

/// <summary>How a failed provider call may be treated by its caller.</summary>
public enum ProviderErrorKind
{
    /// <summary>Throttling, 5xx, timeouts, network: the truth is unknown; retry later, never conclude anything.</summary>
    Transient,

    /// <summary>The cloud has no capacity for the request right now; retried like a transient error by provision.</summary>
    Capacity,

    /// <summary>The request itself is wrong (permissions, parameters): retrying the same call cannot help.</summary>
    Terminal,
}

/// <summary>A provider call that did not get a clean answer.</summary>
public sealed class ProviderException(string provider, ProviderErrorKind kind, string message, Exception? inner = null)
    : Exception($"{provider}: {message}", inner)
{
    public string Provider { get; } = provider;

    public ProviderErrorKind Kind { get; } = kind;

    public bool IsRetryable => Kind is ProviderErrorKind.Transient or ProviderErrorKind.Capacity;
}
