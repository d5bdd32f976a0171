using System.Collections.Concurrent;
using Molecule.Workspaces.Providers;
using Molecule.Workspaces.Sweeps.Orphans;
using Molecule.Workspaces.Tests.Infrastructure;

namespace Molecule.Workspaces.Tests.Sweeps;

/// <summary>The leak pass lists a page at a time and keeps the cloud's page token in Postgres between ticks.</summary>
public sealed class LeakPassPagingTests : HarnessPerTest
{
    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        // 2,500 owned boxes: three list pages
        await harness.SeedOnlineRowsWithBoxesAsync(2_500, "sim-east", "paged");
    }

    [Fact]
    public async Task A_new_sweeper_lists_on_from_the_page_token_the_last_tick_stopped_at()
    {
        using var budget = new CancellationTokenSource();
        var cut = Recording(out var firstTokens, onCall: n =>
        {
            // the budget runs out while the second page is being listed
            if (n == 2)
            {
                budget.Cancel();
            }
        });
        var resumed = Recording(out var secondTokens);

        await harness.NewOrphanSweeper(harness.WithEast(cut)).RunOnceAsync(budget.Token);
        var result = await harness.NewOrphanSweeper(harness.WithEast(resumed)).RunOnceAsync(CancellationToken.None);

        Assert.Equal(2, firstTokens.Count);
        Assert.Null(firstTokens.First());
        Assert.Equal(firstTokens.Last(), secondTokens.First());
        Assert.NotNull(secondTokens.First());
        // from the second page to the end of the list: the lap ends there, and the next tick starts a new one
        Assert.Equal(2, secondTokens.Count);
        Assert.Equal(1_500, result["instances_listed"]);
    }

    [Fact]
    public async Task A_page_token_older_than_its_useful_life_is_not_used()
    {
        using var budget = new CancellationTokenSource();
        var cut = Recording(out _, onCall: n =>
        {
            if (n == 2)
            {
                budget.Cancel();
            }
        });
        var later = Recording(out var tokens);
        await harness.NewOrphanSweeper(harness.WithEast(cut)).RunOnceAsync(budget.Token);
        harness.Time.Advance(LeakPass.PageTokenMaxAge + TimeSpan.FromMinutes(1));

        await harness.NewOrphanSweeper(harness.WithEast(later)).RunOnceAsync(CancellationToken.None);

        Assert.Null(tokens.First());
        Assert.Equal(3, tokens.Count);
    }

    [Fact]
    public async Task A_page_token_the_cloud_refuses_starts_the_list_over_on_the_next_tick()
    {
        using var budget = new CancellationTokenSource();
        var cut = Recording(out _, onCall: n =>
        {
            if (n == 2)
            {
                budget.Cancel();
            }
        });
        await harness.NewOrphanSweeper(harness.WithEast(cut)).RunOnceAsync(budget.Token);
        var refusing = new InterceptingProvider(harness.East)
        {
            ListOverride = (token, ct) => token is null
                ? harness.East.ListManagedAsync(null, ct)
                : throw new ProviderException("sim-east", ProviderErrorKind.Terminal, "InvalidPaginationToken"),
        };
        var fresh = Recording(out var tokens);

        var refused = await harness.NewOrphanSweeper(harness.WithEast(refusing)).RunOnceAsync(CancellationToken.None);
        await harness.NewOrphanSweeper(harness.WithEast(fresh)).RunOnceAsync(CancellationToken.None);

        Assert.Equal(1, refused["providers_skipped"]);
        Assert.Null(tokens.First());
        Assert.Equal(3, tokens.Count);
    }

    private InterceptingProvider Recording(out ConcurrentQueue<string?> tokens, Action<int>? onCall = null)
    {
        var seen = tokens = new ConcurrentQueue<string?>();
        return new InterceptingProvider(harness.East)
        {
            ListOverride = (token, ct) =>
            {
                seen.Enqueue(token);
                onCall?.Invoke(seen.Count);
                return harness.East.ListManagedAsync(token, ct);
            },
        };
    }
}
