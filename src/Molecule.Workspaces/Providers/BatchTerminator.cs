namespace Molecule.Workspaces.Providers;

/// <summary>
/// Terminates many boxes with as few cloud calls as the providers allow: grouped by the provider that owns each box,
/// in chunks of at most 1000 ids, every call under a timeout. One answer per box; a failed call fails only its own
/// chunk, so one bad provider or chunk never hides the others' results. Used by delete and the orphan sweeper.
/// </summary>
public sealed class BatchTerminator(ProviderRegistry providers, TimeProvider time)
{
    public const int MaxIdsPerCall = 1000;

    /// <summary>The timeout of one terminate call. <value>The default is 30 s.</value></summary>
    public TimeSpan CallTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public async Task<IReadOnlyList<BoxTermination>> TerminateAsync(IReadOnlyCollection<BoxRef> boxes, CancellationToken ct)
    {
        var results = new List<BoxTermination>(boxes.Count);
        foreach (var byProvider in boxes.GroupBy(b => b.Provider, StringComparer.Ordinal))
        {
            if (!providers.TryGet(byProvider.Key, out var provider))
            {
                results.AddRange(byProvider.Select(b => new BoxTermination(b, $"provider '{byProvider.Key}' is not configured")));
                continue;
            }

            foreach (var chunk in byProvider.Chunk(MaxIdsPerCall))
            {
                results.AddRange(await TerminateChunkAsync(provider, chunk, ct));
            }
        }

        return results;
    }

    private async Task<IEnumerable<BoxTermination>> TerminateChunkAsync(IComputeProvider provider, BoxRef[] chunk, CancellationToken ct)
    {
        using var timeout = new CancellationTokenSource(CallTimeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, timeout.Token);
        try
        {
            var answers = await provider.TerminateAsync(chunk.Select(b => b.InstanceId).Distinct(StringComparer.Ordinal).ToArray(), linked.Token);
            return chunk.Select(b => answers.TryGetValue(b.InstanceId, out var answer)
                ? new BoxTermination(b, answer.Terminated ? null : answer.Error ?? "terminate failed")
                : new BoxTermination(b, "terminate gave no answer for this id"));
        }
        catch (ProviderException ex)
        {
            return chunk.Select(b => new BoxTermination(b, ex.Message));
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            return chunk.Select(b => new BoxTermination(b, $"terminate timed out after {CallTimeout}"));
        }
    }
}
