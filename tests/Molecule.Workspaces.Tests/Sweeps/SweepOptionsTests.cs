using Molecule.Workspaces.Sweeps;

namespace Molecule.Workspaces.Tests.Sweeps;

public sealed class SweepOptionsTests
{
    [Fact]
    public void The_defaults_are_the_documented_ones_and_the_budget_ends_before_the_next_tick()
    {
        var options = new SweepOptions().Validate();

        Assert.Equal(TimeSpan.FromSeconds(60), options.Interval);
        Assert.Equal(TimeSpan.FromSeconds(48), options.TickBudget);
        Assert.Equal(TimeSpan.FromSeconds(120), options.ReconcileGrace);
        Assert.Equal(TimeSpan.FromMinutes(10), options.LeakGrace);
        Assert.False(options.ReconcilerObservesOnly);
    }

    [Theory]
    [InlineData(nameof(SweepOptions.IntervalSeconds), "0")]
    [InlineData(nameof(SweepOptions.TickBudgetFraction), "1")]
    [InlineData(nameof(SweepOptions.TickBudgetFraction), "0")]
    [InlineData(nameof(SweepOptions.LeakGraceSeconds), "-1")]
    [InlineData(nameof(SweepOptions.ReconcilerMode), "dry-run")]
    public void A_value_no_operator_means_is_refused_at_start_naming_the_setting(string setting, string value)
    {
        var options = new SweepOptions();
        var property = typeof(SweepOptions).GetProperty(setting)!;
        property.SetValue(options, property.PropertyType == typeof(string) ? value : double.Parse(value, System.Globalization.CultureInfo.InvariantCulture));

        var refused = Assert.Throws<InvalidOperationException>(() => options.Validate());

        Assert.Contains($"Molecule:Sweeps:{setting}", refused.Message);
    }
}
