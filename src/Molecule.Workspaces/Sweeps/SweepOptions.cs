using Microsoft.Extensions.Configuration;
using Molecule.Workspaces.Hosting;

namespace Molecule.Workspaces.Sweeps;

/// <summary><c>Molecule:Sweeps:*</c>: the cadence, tick budget and grace windows of the background sweeps (DESIGN §7).</summary>
public sealed class SweepOptions
{
    public const string SectionName = "Molecule:Sweeps";

    /// <summary>The instance reconciler acts on what it finds.</summary>
    public const string ActMode = "act";

    /// <summary>The instance reconciler records what it would do (events, metrics) and changes nothing.</summary>
    public const string ObserveMode = "observe";

    /// <summary>
    /// Seconds from the start of one tick of a sweep to the start of the next (and the first tick runs at start-up).
    /// <value>The default is 60 s.</value>
    /// </summary>
    public double IntervalSeconds { get; set; } = 60;

    /// <summary>
    /// The share of the interval one tick may run before it is cancelled, strictly between 0 and 1, so a tick is
    /// always over before the next one is due. <value>The default is 0.8: 48 s of a 60 s interval.</value>
    /// </summary>
    public double TickBudgetFraction { get; set; } = 0.8;

    /// <summary>
    /// Seconds an online row must have stayed unchanged before the instance reconciler checks its box, so a box that
    /// has just been written is not judged on a describe that does not know it yet. <value>The default is 120 s.</value>
    /// </summary>
    public double ReconcileGraceSeconds { get; set; } = 120;

    /// <summary>
    /// Seconds a tagged box must have existed before the orphan sweeper may reap it as a row-gone leak, so an
    /// operation between its cloud call and its database write never loses its new box.
    /// <value>The default is 600 s (10 min).</value>
    /// </summary>
    public double LeakGraceSeconds { get; set; } = 600;

    /// <summary>
    /// <c>act</c> or <c>observe</c>: how an operator rolls the instance reconciler out.
    /// <value>The default is <c>act</c>.</value>
    /// </summary>
    public string ReconcilerMode { get; set; } = ActMode;

    /// <summary>
    /// Describe calls the instance reconciler keeps in flight per provider, each of up to 1000 ids. Providers are
    /// walked side by side, each with its own limit. <value>The default is 8 (EC2's describe rate allows it); 1 to 64.</value>
    /// </summary>
    public int DescribeConcurrency { get; set; } = DefaultDescribeConcurrency;

    public const int DefaultDescribeConcurrency = 8;

    /// <summary>
    /// How long an active operation that lost its claim may stay unwritten before the reconciler ends it and the leak
    /// pass stops counting its box as owned: longer than any wait of a live walk between two steps (a step's longest
    /// retry delay is 30 s; the state machine's Task retries span about 2 min), after which nothing walks it.
    /// <value>5 min.</value>
    /// </summary>
    public static readonly TimeSpan AbandonedOperationGrace = TimeSpan.FromMinutes(5);

    public TimeSpan Interval => TimeSpan.FromSeconds(IntervalSeconds);

    public TimeSpan TickBudget => Interval * TickBudgetFraction;

    public TimeSpan ReconcileGrace => TimeSpan.FromSeconds(ReconcileGraceSeconds);

    public TimeSpan LeakGrace => TimeSpan.FromSeconds(LeakGraceSeconds);

    public bool ReconcilerObservesOnly => ReconcilerMode == ObserveMode;

    /// <summary>The section bound and validated (<see cref="Validate"/>).</summary>
    public static SweepOptions From(IConfiguration configuration) =>
        (configuration.GetSection(SectionName).Get<SweepOptions>() ?? new SweepOptions()).Validate();

    /// <summary>Refuses, at start-up and naming the setting, a value no operator means.</summary>
    public SweepOptions Validate()
    {
        OptionRules.Require(IntervalSeconds > 0, SectionName, nameof(IntervalSeconds), IntervalSeconds, "must be above 0");
        OptionRules.Require(TickBudgetFraction is > 0 and < 1, SectionName, nameof(TickBudgetFraction), TickBudgetFraction, "must be between 0 and 1 (exclusive)");
        OptionRules.Require(ReconcileGraceSeconds >= 0, SectionName, nameof(ReconcileGraceSeconds), ReconcileGraceSeconds, "must not be negative");
        OptionRules.Require(LeakGraceSeconds >= 0, SectionName, nameof(LeakGraceSeconds), LeakGraceSeconds, "must not be negative");
        OptionRules.Require(DescribeConcurrency is >= 1 and <= 64, SectionName, nameof(DescribeConcurrency), DescribeConcurrency, "must be between 1 and 64");
        OptionRules.Require(ReconcilerMode is ActMode or ObserveMode, SectionName, nameof(ReconcilerMode), ReconcilerMode, $"must be '{ActMode}' or '{ObserveMode}'");
        return this;
    }
}
