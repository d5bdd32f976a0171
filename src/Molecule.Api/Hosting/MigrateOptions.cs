namespace Molecule.Api.Hosting;

/// <summary><c>Molecule:Migrate:*</c>: the <c>migrate</c> role, behind the deploy's custom resource.</summary>
public sealed class MigrateOptions
{
    public const string SectionName = "Molecule:Migrate";

    /// <summary>
    /// The longest the migrations may run before the custom resource answers FAILED, in seconds. Kept below the
    /// function's timeout (and cut shorter by the invocation's own deadline when the adapter passes one), so
    /// CloudFormation always gets an answer rather than waiting out its own timeout. <value>The default is 240 s.</value>
    /// </summary>
    public double BudgetSeconds { get; set; } = 240;

    /// <summary>The timeout of one PUT of the answer to CloudFormation's response URL, in seconds. <value>The default is 10 s.</value></summary>
    public double ResponseTimeoutSeconds { get; set; } = 10;

    public TimeSpan Budget => TimeSpan.FromSeconds(BudgetSeconds);

    public TimeSpan ResponseTimeout => TimeSpan.FromSeconds(ResponseTimeoutSeconds);

    public static MigrateOptions From(IConfiguration configuration)
    {
        var options = configuration.GetSection(SectionName).Get<MigrateOptions>() ?? new MigrateOptions();
        if (options.BudgetSeconds <= 0 || options.ResponseTimeoutSeconds <= 0)
        {
            throw new InvalidOperationException($"{SectionName}:BudgetSeconds and ResponseTimeoutSeconds must be above 0");
        }

        return options;
    }
}
