namespace Molecule.Api.Hosting;

/// <summary>The top level of the <c>Molecule</c> configuration section.</summary>
public sealed class MoleculeSettings
{
    /// <summary>Value of every box's <c>molecule:deployment</c> tag. <value>The default is <c>local</c>.</value></summary>
    public string DeploymentId { get; set; } = "local";

    /// <summary>The provider new workspaces use when the request names none. <value>The default is <c>sim-east</c>.</value></summary>
    public string DefaultProvider { get; set; } = "sim-east";

    /// <summary><c>all</c> locally; <c>api</c>, <c>steps</c>, <c>sweeps</c> or <c>migrate</c> per Lambda function in AWS. <value>The default is <c>all</c>.</value></summary>
    public string Role { get; set; } = ServiceRoles.All;

    /// <summary>Apply migrations before serving. True locally; in AWS the <c>migrate</c> custom resource does it on deploy.</summary>
    public bool MigrateOnStart { get; set; } = true;

    public static MoleculeSettings From(IConfiguration configuration) =>
        configuration.GetSection("Molecule").Get<MoleculeSettings>() ?? new MoleculeSettings();
}

/// <summary>The values of <c>Molecule:Role</c>.</summary>
public static class ServiceRoles
{
    public const string All = "all";
    public const string Api = "api";
    public const string Steps = "steps";
    public const string Sweeps = "sweeps";

    /// <summary>The function behind the deploy's custom resource: applies the migrations, serves nothing else.</summary>
    public const string Migrate = "migrate";

    public static bool ServesApi(string role) => role is All or Api;

    /// <summary>Worker entry points (<c>/internal/*</c>) exist only in worker roles: the public API never serves them.</summary>
    public static bool ServesInternal(string role) => role is Steps or Sweeps or Migrate;

    /// <summary>The roles that run as Lambda functions (everything but the local <c>all</c>): they log JSON lines.</summary>
    public static bool RunsInLambda(string role) => role is not All;
}
