namespace Molecule.Workspaces.Providers;

/// <summary>The configured providers by name, and which one new workspaces use.</summary>
public sealed class ProviderRegistry
{
    private readonly Dictionary<string, IComputeProvider> providers;

    public ProviderRegistry(IEnumerable<IComputeProvider> providers, string defaultProvider)
    {
        this.providers = providers.ToDictionary(p => p.Name, StringComparer.Ordinal);
        if (!this.providers.ContainsKey(defaultProvider))
        {
            throw new InvalidOperationException($"Molecule:DefaultProvider '{defaultProvider}' is not a configured provider");
        }

        DefaultProvider = defaultProvider;
    }

    public string DefaultProvider { get; }

    public IReadOnlyCollection<IComputeProvider> All => providers.Values;

    public bool TryGet(string? name, out IComputeProvider provider)
    {
        if (name is not null && providers.TryGetValue(name, out var found))
        {
            provider = found;
            return true;
        }

        provider = null!;
        return false;
    }

    public IComputeProvider Get(string name) =>
        providers.TryGetValue(name, out var provider)
            ? provider
            : throw new ProviderException(name, ProviderErrorKind.Terminal, "provider is not configured");
}
