using Microsoft.Extensions.Configuration;

namespace Molecule.Workspaces.Hosting;

/// <summary>
/// <c>Molecule:Dispatch:Mode</c>: who walks a committed operation. <c>local</c>: the in-process runner;
/// <c>dynamodb</c>: the dispatch table → stream → Pipe → state machine (DESIGN §5.4). Anything else refuses to start.
/// </summary>
public static class DispatchMode
{
    public const string Key = "Molecule:Dispatch:Mode";
    public const string Local = "local";
    public const string DynamoDb = "dynamodb";

    /// <summary>The configured mode (<see cref="Local"/> when unset); a value that is not a mode refuses to start.</summary>
    public static string From(IConfiguration configuration)
    {
        var mode = configuration[Key] ?? Local;
        return mode is Local or DynamoDb
            ? mode
            : throw new InvalidOperationException($"{Key} '{mode}' is not a mode; use '{Local}' or '{DynamoDb}'");
    }
}
