using Microsoft.Extensions.Logging;
using Molecule.Workspaces.Providers;

namespace Molecule.Workspaces.Sweeps.Reconciler;

/// <summary>One provider's batch describe for the liveness pass: under the call timeout, counted, and fail-safe.</summary>
internal sealed class ProviderDescriber(IComputeProvider provider, ReconcilerSettings settings, ReconcileCounts counts, TimeProvider time, ILogger logger)
{
    public string ProviderName => provider.Name;

    /// <summary>The state of each id, or null when the answer is not clean: the rows are then left alone (never "dead" on a doubt).</summary>
    public async Task<IReadOnlyDictionary<string, InstanceState>?> DescribeAsync(IReadOnlyCollection<string> ids, CancellationToken ct)
    {
        counts.Add(ReconcileCount.DescribeCalls);
        using var timeout = new CancellationTokenSource(settings.CallTimeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, timeout.Token);
        try
        {
            return await provider.DescribeAsync(ids, linked.Token);
        }
        catch (Exception ex) when (ex is ProviderException || (ex is OperationCanceledException && !ct.IsCancellationRequested))
        {
            counts.Add(ReconcileCount.ProviderErrors);
            logger.LogWarning("describe on {provider} gave no clean answer; {count} rows left alone: {error}", provider.Name, ids.Count, ex.Message);
            return null;
        }
    }
}
