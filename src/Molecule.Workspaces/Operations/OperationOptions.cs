using Microsoft.Extensions.Configuration;
using Molecule.Workspaces.Hosting;

namespace Molecule.Workspaces.Operations;

/// <summary><c>Molecule:Operations:*</c>.</summary>
public sealed class OperationOptions
{
    public const string SectionName = "Molecule:Operations";

    /// <summary>
    /// How long a claim lives before the reconciler may compensate its operation, in seconds. Longer than the
    /// state machine's own timeout, so a live execution never loses its claim to expiry.
    /// <value>The default is 1800 s (30 min).</value>
    /// </summary>
    public int ClaimTtlSeconds { get; set; } = 1800;

    /// <summary>How often await-running polls a pending box, in seconds. <value>The default is 5 s.</value></summary>
    public double PollIntervalSeconds { get; set; } = 5;

    /// <summary>How long await-running waits for <c>running</c> before the operation fails, in seconds. <value>The default is 720 s (12 min).</value></summary>
    public int AwaitRunningTimeoutSeconds { get; set; } = 720;

    /// <summary>The timeout of one provider call, in seconds. <value>The default is 30 s.</value></summary>
    public int ProviderCallTimeoutSeconds { get; set; } = 30;

    /// <summary>How many operations the local runner walks at once. <value>The default is 64.</value></summary>
    public int LocalConcurrency { get; set; } = 64;

    /// <summary>
    /// How long a local replica's lease on an operation lasts without renewal, in seconds (DESIGN §5.4). The replica
    /// walking an operation renews it before every step and every third of this; every third of this each replica
    /// also adopts the operations whose lease has expired. A dead replica's operations are therefore walked again
    /// within 4/3 of this. Must be above 0. <value>The default is 30 s: a dead replica's work moves within 40 s.</value>
    /// </summary>
    public double LeaseSeconds { get; set; } = 30;

    public TimeSpan ClaimTtl => TimeSpan.FromSeconds(ClaimTtlSeconds);

    public TimeSpan PollInterval => TimeSpan.FromSeconds(PollIntervalSeconds);

    public TimeSpan AwaitRunningTimeout => TimeSpan.FromSeconds(AwaitRunningTimeoutSeconds);

    public TimeSpan Lease => TimeSpan.FromSeconds(LeaseSeconds);

    public TimeSpan ProviderCallTimeout => TimeSpan.FromSeconds(ProviderCallTimeoutSeconds);

    public static OperationOptions From(IConfiguration configuration) =>
        (configuration.GetSection(SectionName).Get<OperationOptions>() ?? new OperationOptions()).Validate();

    /// <summary>Refuses, at start-up and naming the setting, a window or count no operator means (each must be above 0).</summary>
    public OperationOptions Validate()
    {
        const string AboveZero = "must be above 0";
        OptionRules.Require(ClaimTtlSeconds > 0, SectionName, nameof(ClaimTtlSeconds), ClaimTtlSeconds, AboveZero);
        OptionRules.Require(PollIntervalSeconds > 0, SectionName, nameof(PollIntervalSeconds), PollIntervalSeconds, AboveZero);
        OptionRules.Require(AwaitRunningTimeoutSeconds > 0, SectionName, nameof(AwaitRunningTimeoutSeconds), AwaitRunningTimeoutSeconds, AboveZero);
        OptionRules.Require(ProviderCallTimeoutSeconds > 0, SectionName, nameof(ProviderCallTimeoutSeconds), ProviderCallTimeoutSeconds, AboveZero);
        OptionRules.Require(LocalConcurrency > 0, SectionName, nameof(LocalConcurrency), LocalConcurrency, AboveZero);
        OptionRules.Require(LeaseSeconds > 0, SectionName, nameof(LeaseSeconds), LeaseSeconds, AboveZero);
        return this;
    }
}
