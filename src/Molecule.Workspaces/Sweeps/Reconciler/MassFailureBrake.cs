namespace Molecule.Workspaces.Sweeps.Reconciler;

/// <summary>
/// The mass-failure brake of one provider for one pass (DESIGN §7). Pages are acted on as they come, so the brake judges
/// the share of rows that look dead (the first describe said "not running") over every row the pass has checked of
/// this provider so far, page by page; once tripped it stays tripped for the rest of the pass, and nothing of that
/// provider is marked or healed past it.
/// <para>
/// The first page is judged like any other: the "more than <see cref="Minimum"/>" floor keeps a handful of deaths in a
/// small sample from tripping it, and four or more boxes dying together in a sample that small is itself worth
/// stopping for. A false trip costs one tick of delay, never a wrong action.
/// </para>
/// </summary>
internal sealed class MassFailureBrake
{
    /// <summary>More than this many rows looking dead can trip the brake...</summary>
    public const int Minimum = 3;

    /// <summary>...when they are also more than this share of the rows checked so far.</summary>
    public const double Share = 0.30;

    private readonly Lock gate = new();
    private int checkedRows;
    private int lookingDead;

    public bool Tripped { get; private set; }

    /// <summary>Adds one page's answers and judges; true only for the page that trips the brake.</summary>
    public bool Record(int pageChecked, int pageLookingDead, out int checkedSoFar, out int deadSoFar)
    {
        lock (gate)
        {
            checkedRows += pageChecked;
            lookingDead += pageLookingDead;
            checkedSoFar = checkedRows;
            deadSoFar = lookingDead;
            if (Tripped || lookingDead <= Minimum || lookingDead <= Share * checkedRows)
            {
                return false;
            }

            Tripped = true;
            return true;
        }
    }
}
