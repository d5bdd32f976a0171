using Molecule.Api.Contract;
using Molecule.Api.Hosting;
using Molecule.Api.Http;
using Molecule.Api.OpenApi;

namespace Molecule.Api.Endpoints;

/// <summary>
/// The route table: one line a route, with what the OpenAPI document says of it (operation id, summary, the body it
/// accepts, the problem codes it can answer). Answers are described by each handler's typed results.
/// </summary>
public static class Routes
{
    public static void MapMoleculeRoutes(this WebApplication app, MoleculeSettings settings, bool hasSimProvider)
    {
        var service = app.MapGroup("").WithTags("service");
        service.MapGet("/healthz", ServiceEndpoints.Healthz).WithName("healthz").WithSummary("Liveness (no token)");
        service.MapGet("/readyz", ServiceEndpoints.ReadyzAsync).WithName("readyz").WithSummary("Readiness: Postgres answers within 2 s (no token)")
            .ProducesProblems(ProblemCodes.NotReady);

        // worker entry points: never in the api or all roles, so never in the API's document
        if (ServiceRoles.ServesSteps(settings.Role))
        {
            app.MapPost("/internal/steps", StepEndpoint.HandleAsync);
        }

        if (ServiceRoles.ServesSweepTicks(settings.Role))
        {
            app.MapPost("/internal/sweeps/orphans", SweepTickEndpoints.OrphansAsync);
            app.MapPost("/internal/sweeps/reconcile", SweepTickEndpoints.ReconcileAsync);
        }

        if (settings.Role == ServiceRoles.Migrate)
        {
            app.MapPost("/internal/migrate", MigrateEndpoint.HandleAsync);
        }

        if (!ServiceRoles.ServesApi(settings.Role))
        {
            return;
        }

        app.MapMoleculeOpenApi();

        // no one workspace's routes: the admin token only
        var admin = app.MapGroup("").RequireAdmin();
        admin.MapGet("/providers", ServiceEndpoints.Providers).WithTags("service").WithName("listProviders").WithSummary("The configured providers");
        admin.MapPost("/workspaces", CreateWorkspaceEndpoint.HandleAsync).WithTags("workspaces").WithName("createWorkspace")
            .WithSummary("Create a workspace").AcceptsJson<CreateWorkspaceRequest>().ProducesProblems(CreateWorkspaceEndpoint.Codes)
            .WithRequestHeader("Idempotency-Key", "At most 255 characters: a retry with the same key and body gets the first answer; another body, 422.")
            .WithResponseHeader(StatusCodes.Status201Created, "Location", "/workspaces/{id} of the new workspace.");
        admin.MapGet("/workspaces", WorkspaceReadEndpoints.ListAsync).WithTags("workspaces").WithName("listWorkspaces")
            .WithSummary("Live workspaces, oldest first, in keyset pages").ProducesProblems(ProblemCodes.Validation)
            .WithResponseHeader(StatusCodes.Status200OK, "Link", "<…?cursor=…>; rel=\"next\" when the page is full: more may follow.");
        admin.MapGet("/operations", StuckOperationsEndpoint.HandleAsync).WithTags("operations").WithName("listStuckOperations")
            .WithSummary("Operations active too long, expired, or without their claim; oldest first").ProducesProblems(ProblemCodes.Validation);

        var workspace = app.MapGroup("/workspaces/{id}").WithTags("workspaces");
        workspace.MapGet("", WorkspaceReadEndpoints.GetAsync).WithName("getWorkspace")
            .WithSummary("A workspace with its latest operation").ProducesProblems(ProblemCodes.WorkspaceAccess)
            .WithResponseHeader(StatusCodes.Status200OK, "ETag", "The workspace's version, for If-Match.");
        workspace.MapPatch("", PatchWorkspaceEndpoint.HandleAsync).WithName("patchWorkspace")
            .WithSummary("Rename, move on the canvas, collapse; a new compute.provider switches")
            .AcceptsJson<PatchWorkspaceRequest>().ProducesProblems(PatchWorkspaceEndpoint.Codes)
            .WithRequestHeader("If-Match", "A version ETag (\"3\"): the edit applies only to that version, else 412.")
            .WithResponseHeader(StatusCodes.Status200OK, "ETag", "The new version.");
        workspace.MapDelete("", DeleteWorkspaceEndpoint.HandleAsync).WithName("deleteWorkspace")
            .WithSummary("Delete a workspace and, with confirm=true, its live descendants")
            .ProducesProblems(DeleteWorkspaceEndpoint.Codes)
            .WithRequestHeader("X-Confirm-Name", "The workspace's name, as the user typed it: another name is 400 CONFIRM_NAME_MISMATCH.");
        workspace.MapGet("/state", WorkspaceReadEndpoints.StateAsync).WithName("getWorkspaceState")
            .WithSummary("The small status the canvas polls").ProducesProblems(ProblemCodes.Validation, ProblemCodes.Forbidden, ProblemCodes.RemovedState);
        workspace.MapGet("/events", WorkspaceReadEndpoints.EventsAsync).WithName("listWorkspaceEvents")
            .WithSummary("The audit log, newest first").ProducesProblems(ProblemCodes.Validation, ProblemCodes.Forbidden, ProblemCodes.NotFound);
        workspace.MapPost("/switch-provider", SwitchProviderEndpoint.HandleAsync).WithName("switchProvider")
            .WithSummary("Move the workspace to another provider").AcceptsJson<SwitchProviderRequest>().ProducesProblems(SwitchProviderEndpoint.Codes);
        workspace.MapPost("/restart", LifecycleEndpoints.RestartAsync).WithName("restartWorkspace")
            .WithSummary("A new box for the workspace").ProducesProblems(LifecycleEndpoints.RestartCodes);
        workspace.MapPost("/pause", LifecycleEndpoints.PauseAsync).WithName("pauseWorkspace")
            .WithSummary("Pause the workspace (cascade=true: and its live descendants)").ProducesProblems(LifecycleEndpoints.CascadeCodes);
        workspace.MapPost("/resume", LifecycleEndpoints.ResumeAsync).WithName("resumeWorkspace")
            .WithSummary("Resume the workspace (cascade=true: and its live descendants)").ProducesProblems(LifecycleEndpoints.CascadeCodes);

        app.MapGet("/operations/{id}", OperationEndpoints.GetAsync).WithTags("operations").WithName("getOperation")
            .WithSummary("Where an operation is, with its Step Functions execution").ProducesProblems(OperationEndpoints.Codes);

        if (hasSimProvider)
        {
            var sim = app.MapGroup("/sim").RequireAdmin().WithTags("sim");
            sim.MapGet("/instances", SimEndpoints.ListInstancesAsync).WithName("listSimInstances")
                .WithSummary("The simulated clouds' boxes").ProducesProblems(ProblemCodes.BadProvider);
            sim.MapPost("/instances/{provider}/{instanceId}/kill", SimEndpoints.KillAsync).WithName("killSimInstance")
                .WithSummary("Kill a simulated box, as a spot reclaim would").ProducesProblems(ProblemCodes.BadProvider, ProblemCodes.NotFound);
            sim.MapPut("/faults", SimEndpoints.PutFaultsAsync).WithName("setSimFaults")
                .WithSummary("Inject faults into a simulated provider").AcceptsJson<SimFaultsRequest>().ProducesProblems([.. ProblemCodes.Body, ProblemCodes.BadProvider]);
            sim.MapDelete("/faults", SimEndpoints.ClearFaults).WithName("clearSimFaults").WithSummary("Clear every simulated fault");
        }
    }
}
