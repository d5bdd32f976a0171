namespace Molecule.Workspaces.Tests.Infrastructure;

/// <summary>Where the repository's non-.NET pieces are, found from the test assembly upwards (no fixed paths).</summary>
public static class RepositoryPaths
{
    public static string Root { get; } = FindRoot();

    /// <summary><c>infra/checks</c>: the node package whose modules <c>infra/dev.sh test</c> installs before the .NET tests.</summary>
    public static string Checks => Path.Combine(Root, "infra", "checks");

    public static string StateMachine => Path.Combine(Root, "infra", "statemachines", "workspace-operation.asl.json");

    /// <summary>A file inside <c>infra/checks/node_modules</c>; fails loudly, naming the fix, when the packages are not installed.</summary>
    public static string CheckModule(params string[] path)
    {
        var full = Path.Combine([Checks, "node_modules", .. path]);
        if (!File.Exists(full))
        {
            throw new InvalidOperationException(
                $"{full} is missing: run the tests with 'infra/dev.sh test', which runs 'npm ci' in infra/checks first");
        }

        return full;
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Molecule.Serverless.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"no Molecule.Serverless.sln above {AppContext.BaseDirectory}");
    }
}
