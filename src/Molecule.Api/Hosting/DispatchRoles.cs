using Molecule.Workspaces.Hosting;

namespace Molecule.Api.Hosting;

/// <summary>
/// Which <c>Molecule:Dispatch:Mode</c> a role may use (DESIGN §5.4): <c>local</c> walks operations in-process, which only
/// role <c>all</c> does; a role that hands operations off anywhere else needs <c>dynamodb</c> (the dispatch table →
/// stream → Pipe → state machine), or nothing would ever walk what it hands off.
/// </summary>
public static class DispatchRoles
{
    public static void Check(string mode, string role)
    {
        if (mode == DispatchMode.Local && ServiceRoles.HandsOffOperations(role) && !ServiceRoles.RunsInProcessWork(role))
        {
            throw new InvalidOperationException(
                $"{DispatchMode.Key} '{DispatchMode.Local}' walks operations in-process, which only Molecule:Role '{ServiceRoles.All}' does; " +
                $"role '{role}' needs {DispatchMode.Key} '{DispatchMode.DynamoDb}'");
        }
    }
}
