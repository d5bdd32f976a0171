namespace Molecule.Api.Hosting;

/// <summary>The top level of the <c>Molecule</c> configuration section.</summary>
public sealed class MoleculeSettings
{
    /// <summary>Value of every box's <c>molecule:deployment</c> tag. <value>The default is <c>local</c>.</value></summary>
    public string DeploymentId { get; set; } = "local";

    /// <summary>The provider new workspaces use when the request names none. <value>The default is <c>sim-east</c>.</value></summary>
    public string DefaultProvider { get; set; } = "sim-east";

    /// <summary>
    /// What this process serves (<see cref="ServiceRoles"/>): <c>all</c> locally; <c>api</c>, <c>steps</c>,
    /// <c>sweeps</c> or <c>migrate</c> per Lambda function in AWS. <value>The default is <c>all</c>.</value>
    /// </summary>
    public string Role { get; set; } = ServiceRoles.All;

    /// <summary>Apply migrations before serving. True locally; in AWS the <c>migrate</c> custom resource does it on deploy.</summary>
    public bool MigrateOnStart { get; set; } = true;

    /// <summary>Refuses, at start-up, a role this build does not know: a typo must not start a process that serves nothing.</summary>
    public MoleculeSettings Validate()
    {
        if (!ServiceRoles.Known.Contains(Role))
        {
            throw new InvalidOperationException(
                $"Molecule:Role '{Role}' is not a role; use one of: {string.Join(", ", ServiceRoles.Known)}");
        }

        return this;
    }
}
