namespace Molecule.Workspaces.Sweeps.Reconciler;

/// <summary>
/// The resume point of a walk whose pages finish out of order (several describes in flight): the key after which
/// every page is done. A page is registered when it is read, with the key the next tick resumes after once it and
/// every page before it are done (null: the walk reached the end of the keyset and the next tick starts over).
/// </summary>
internal sealed class KeysetWatermark
{
    private readonly Lock gate = new();
    private readonly SortedDictionary<long, (string? ResumeAfter, bool Done)> pages = [];
    private long nextSequence;
    private long advances;

    public long Register(string? resumeAfter)
    {
        lock (gate)
        {
            pages[nextSequence] = (resumeAfter, false);
            return nextSequence++;
        }
    }

    /// <summary>
    /// Marks a page done; returns true with the new resume point when the done prefix grew, and a number that grows
    /// with every advance, so a saver racing another can tell the newer resume point from the older.
    /// </summary>
    public bool Complete(long sequence, out string? resumeAfter, out long advance)
    {
        lock (gate)
        {
            pages[sequence] = (pages[sequence].ResumeAfter, true);
            var advanced = false;
            resumeAfter = null;
            while (pages.Count > 0 && pages.First() is { Value.Done: true } first)
            {
                resumeAfter = first.Value.ResumeAfter;
                pages.Remove(first.Key);
                advanced = true;
            }

            advance = advanced ? ++advances : advances;
            return advanced;
        }
    }
}
