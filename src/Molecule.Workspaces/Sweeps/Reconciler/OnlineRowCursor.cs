using Molecule.Workspaces.Store;

namespace Molecule.Workspaces.Sweeps.Reconciler;

/// <summary>
/// One provider's online rows in id order for one tick: from the row after the stored resume point to the last, then
/// from the first row up to the resume point — one lap at most, so a small fleet is checked once per tick, not in a
/// loop. Each page comes with the key the next tick resumes after once it is done (null at the end of the keyset:
/// the next tick starts from the first row).
/// </summary>
internal sealed class OnlineRowCursor(ReconcilerStore store, string provider, ReconcilerSettings settings, TimeProvider time, Guid? resumeAfter)
{
    private readonly Guid? wrapAt = resumeAfter;
    private Guid? after = resumeAfter;
    private Guid? upTo;
    private bool done;

    /// <summary>The next page, or null when the lap is over.</summary>
    public async Task<(IReadOnlyList<OnlineRow> Rows, string? ResumeAfter)?> NextAsync(CancellationToken ct)
    {
        if (done)
        {
            return null;
        }

        var rows = await store.ListOnlinePageAsync(provider, after, upTo, time.GetUtcNow() - settings.Grace, settings.PageSize, ct);
        var resumeAfterPage = rows.Count > 0 ? rows[^1].Id.ToString() : after?.ToString();
        if (rows.Count == settings.PageSize)
        {
            after = rows[^1].Id;
        }
        else if (upTo is null)
        {
            // the end of the keyset: wrap to the first row if this tick began mid-way, up to where it began
            resumeAfterPage = null;
            (after, upTo, done) = (null, wrapAt, wrapAt is null);
        }
        else
        {
            done = true;
        }

        return (rows, resumeAfterPage);
    }
}
