using Molecule.Api.Hosting;

namespace Molecule.Api.Endpoints;

/// <summary>The route table: one line a route.</summary>
public static class Routes
{
    public static void MapMoleculeRoutes(this WebApplication app, MoleculeSettings settings, bool hasSimProvider)
    {
        app.MapGet("/healthz", ServiceEndpoints.Healthz);
        app.MapGet("/readyz", ServiceEndpoints.ReadyzAsync);

        // worker entry points: never in the api or all roles
        if (ServiceRoles.ServesSteps(settings.Role))
        {
            app.MapPost("/internal/steps", StepEndpoint.HandleAsync);
        }

        if (ServiceRoles.ServesSweepTicks(settings.Role))
        {
            app.MapPost("/internal/sweeps/orphans", SweepTickEndpoints.OrphansAsync);
            app.MapPost("/internal/sweeps/reconcile", SweepTickEndpoints.ReconcileAsync);
        }

        if (!ServiceRoles.ServesApi(settings.Role))
        {
            return;
        }

        app.MapGet("/providers", ServiceEndpoints.Providers);

        var workspaces = app.MapGroup("/workspaces");
        workspaces.MapPost("", CreateWorkspaceEndpoint.HandleAsync);
        workspaces.MapGet("", WorkspaceReadEndpoints.ListAsync);
        workspaces.MapGet("/{id}", WorkspaceReadEndpoints.GetAsync);
        workspaces.MapPatch("/{id}", PatchWorkspaceEndpoint.HandleAsync);
        workspaces.MapDelete("/{id}", DeleteWorkspaceEndpoint.HandleAsync);
        workspaces.MapGet("/{id}/state", WorkspaceReadEndpoints.StateAsync);
        workspaces.MapGet("/{id}/events", WorkspaceReadEndpoints.EventsAsync);
        workspaces.MapPost("/{id}/switch-provider", SwitchProviderEndpoint.HandleAsync);
        workspaces.MapPost("/{id}/restart", LifecycleEndpoints.RestartAsync);
        workspaces.MapPost("/{id}/pause", LifecycleEndpoints.PauseAsync);
        workspaces.MapPost("/{id}/resume", LifecycleEndpoints.ResumeAsync);

        app.MapGet("/operations", StuckOperationsEndpoint.HandleAsync);
        app.MapGet("/operations/{id}", OperationEndpoints.GetAsync);

        if (hasSimProvider)
        {
            app.MapGet("/sim/instances", SimEndpoints.ListInstancesAsync);
            app.MapPost("/sim/instances/{provider}/{instanceId}/kill", SimEndpoints.KillAsync);
            app.MapPut("/sim/faults", SimEndpoints.PutFaultsAsync);
            app.MapDelete("/sim/faults", SimEndpoints.ClearFaults);
        }
    }
}
