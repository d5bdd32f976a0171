using Microsoft.Extensions.Configuration;
using Molecule.Workspaces.Hosting;

namespace Molecule.Workspaces.Operations;

/// <summary><c>Molecule:Delete:*</c>: how long one <c>DELETE /workspaces/{id}</c> may wait for its boxes to die.</summary>
public sealed class DeleteOptions
{
    public const string SectionName = "Molecule:Delete";

    /// <summary>
    /// Seconds from the start of a delete to its answer, terminate retries included. A box still running when the
    /// budget is spent stays on its removed row for the orphan sweeper and the answer is 503 <c>TERMINATE_PENDING</c>:
    /// in AWS the HTTP API cuts an integration off at 30 s, and a request cut off answers nothing useful at all.
    /// Above 0 and below 30. <value>The default is 20 s, which leaves the <c>api</c> function time to write its events
    /// and answer within its 29 s timeout.</value>
    /// </summary>
    public double BudgetSeconds { get; set; } = 20;

    public TimeSpan Budget => TimeSpan.FromSeconds(BudgetSeconds);

    /// <summary>The section bound and validated (<see cref="Validate"/>).</summary>
    public static DeleteOptions From(IConfiguration configuration) =>
        (configuration.GetSection(SectionName).Get<DeleteOptions>() ?? new DeleteOptions()).Validate();

    /// <summary>Refuses, at start-up and naming the setting, a budget that would outlive the API's integration timeout.</summary>
    public DeleteOptions Validate()
    {
        OptionRules.Require(BudgetSeconds is > 0 and < 30, SectionName, nameof(BudgetSeconds), BudgetSeconds, "must be above 0 and below 30");
        return this;
    }
}
