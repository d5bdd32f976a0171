namespace Molecule.Api.Hosting;

/// <summary>
/// The values of <c>Molecule:Role</c> and what each serves. One build runs as every Lambda function in AWS, each with
/// its role; locally one process in role <c>all</c> serves the API and walks operations and sweeps in-process.
/// </summary>
public static class ServiceRoles
{
    /// <summary>Locally: the HTTP API, the in-process operation runner and the sweep timers.</summary>
    public const string All = "all";

    /// <summary>The HTTP API behind API Gateway; hands operations to Step Functions.</summary>
    public const string Api = "api";

    /// <summary>The state machine's Tasks: <c>POST /internal/steps</c>.</summary>
    public const string Steps = "steps";

    /// <summary>One sweep tick per EventBridge schedule: <c>POST /internal/sweeps/{orphans,reconcile}</c>.</summary>
    public const string Sweeps = "sweeps";

    /// <summary>The deploy-time migration custom resource.</summary>
    public const string Migrate = "migrate";

    public static IReadOnlyList<string> Known { get; } = [All, Api, Steps, Sweeps, Migrate];

    public static bool ServesApi(string role) => role is All or Api;

    public static bool ServesSteps(string role) => role is Steps;

    public static bool ServesSweepTicks(string role) => role is Sweeps;

    /// <summary>The roles that run as Lambda functions (everything but the local <c>all</c>): they log JSON lines.</summary>
    public static bool RunsInLambda(string role) => role is not All;

    /// <summary>Only the local all-in-one process walks operations and ticks sweeps on its own; no Lambda container does.</summary>
    public static bool RunsInProcessWork(string role) => role is All;

    /// <summary>Roles that start operations (requests, heals, the outbox repair) and so need a dispatcher that reaches a walker.</summary>
    public static bool HandsOffOperations(string role) => role is All or Api or Sweeps;
}
