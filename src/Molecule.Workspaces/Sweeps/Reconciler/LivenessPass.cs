using Microsoft.Extensions.Logging;
using Molecule.Workspaces.Events;
using Molecule.Workspaces.Providers;
using Molecule.Workspaces.Store;

namespace Molecule.Workspaces.Sweeps.Reconciler;

/// <summary>
/// Keeps <c>online</c> honest (DESIGN §7): every configured provider's unclaimed online rows are checked against the
/// cloud, each provider walked on its own and at once (<see cref="ProviderLivenessWalk"/>), so one provider's failure or
/// slowness never stops another's. Returns the providers whose mass-failure brake tripped: nothing of theirs is healed
/// in this tick. Rows naming a provider that is not configured are left alone.
/// </summary>
internal sealed class LivenessPass(
    ReconcilerStore store,
    SweepProgressStore progress,
    ProviderRegistry providers,
    EventStore events,
    SuspectMemory suspects,
    ReconcilerSettings settings,
    TimeProvider time,
    ILogger logger)
{
    public async Task<IReadOnlySet<string>> RunAsync(ReconcileCounts counts, DateTimeOffset stopNewPagesAt, CancellationToken ct)
    {
        suspects.ForgetOlderThan(time.GetUtcNow() - SuspectMemory.ForgetAfter);
        var walks = providers.All
            .Select(p => new ProviderLivenessWalk(p, store, progress, events, suspects, settings, counts, time, logger))
            .ToList();
        await Task.WhenAll(walks.Select(walk => RunSupervisedAsync(walk, counts, stopNewPagesAt, ct)));
        return walks.Where(w => w.Braked).Select(w => w.ProviderName).ToHashSet(StringComparer.Ordinal);
    }

    private Task RunSupervisedAsync(ProviderLivenessWalk walk, ReconcileCounts counts, DateTimeOffset stopNewPagesAt, CancellationToken ct) =>
        SweepPass.SuperviseAsync(
            () => walk.RunAsync(stopNewPagesAt, ct),
            ex =>
            {
                counts.Add(ReconcileCount.Errors);
                logger.LogError(ex, "liveness walk of {provider} failed; the other providers were not held up", walk.ProviderName);
            },
            null,
            ct);
}
