namespace Molecule.Workspaces.Providers.Ec2;

/// <summary>
/// Runs one EC2 call under the per-call timeout. The caller's cancellation propagates as
/// <see cref="OperationCanceledException"/>; everything else, our own timeout included, becomes a
/// <see cref="ProviderException"/> classified by <see cref="Ec2ErrorClassifier"/>.
/// </summary>
internal sealed class Ec2CallRunner(string providerName, TimeSpan callTimeout, TimeProvider timeProvider)
{
    public async Task<T> RunAsync<T>(string operation, Func<CancellationToken, Task<T>> call, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        using var timeout = new CancellationTokenSource(callTimeout, timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, timeout.Token);
        try
        {
            return await call(linked.Token);
        }
        catch (Exception ex) when (ct.IsCancellationRequested)
        {
            // The caller gave up: not a provider error, and it must not look like one. Raised with the caller's own
            // token (the SDK only saw the linked one), so `when (e.CancellationToken == ct)` filters work upstream.
            throw new OperationCanceledException($"{operation} was canceled by the caller", ex, ct);
        }
        catch (Exception ex)
        {
            var kind = Ec2ErrorClassifier.Classify(ex);
            var what = ex is OperationCanceledException && timeout.IsCancellationRequested
                ? $"timed out after {callTimeout.TotalSeconds:0.###} s"
                : Ec2ErrorClassifier.Describe(ex);
            throw new ProviderException(providerName, kind, $"{operation} failed ({kind.ToString().ToLowerInvariant()}): {what}", ex);
        }
    }
}
