using Microsoft.Extensions.Logging;

namespace Molecule.Workspaces.Operations;

/// <summary>
/// The ids every log entry inside a unit of work carries as scope properties (<c>operation_id</c>,
/// <c>workspace_id</c>), so one workspace's story can be pulled out of interleaved Lambda logs by a filter. The keys
/// are the same stable names the messages use.
/// </summary>
public static class LogScopes
{
    private static readonly Func<ILogger, Guid, IDisposable?> WorkspaceScope =
        LoggerMessage.DefineScope<Guid>("workspace {workspace_id}");

    private static readonly Func<ILogger, Guid, IDisposable?> OperationOnlyScope =
        LoggerMessage.DefineScope<Guid>("operation {operation_id}");

    public static IDisposable? ForWorkspace(ILogger logger, Guid workspaceId) => WorkspaceScope(logger, workspaceId);

    public static IDisposable? ForOperation(ILogger logger, Guid operationId) => OperationOnlyScope(logger, operationId);
}
