using Microsoft.AspNetCore.Http.HttpResults;
using Molecule.Api.Contract;
using Molecule.Api.Http;
using Molecule.Workspaces.Providers;
using Molecule.Workspaces.Providers.Sim;

namespace Molecule.Api.Endpoints;

/// <summary>
/// The simulated cloud's admin surface (admin token only, by its route group; mapped only when a sim provider is configured): look at
/// its boxes, kill one as a spot reclaim would, inject and clear faults.
/// </summary>
public static class SimEndpoints
{
    public static async Task<Results<Ok<IReadOnlyList<SimInstanceAnswer>>, ProblemResult>> ListInstancesAsync(HttpContext http, string? provider,
        ProviderRegistry providers)
    {
        var name = provider ?? "";
        var sims = SimProviders(providers).Where(p => name.Length == 0 || p.Name == name).ToArray();
        if (name.Length > 0 && sims.Length == 0)
        {
            return Problems.BadProvider($"'{name}' is not a sim provider");
        }

        var boxes = new List<SimInstanceAnswer>();
        foreach (var sim in sims)
        {
            foreach (var instance in await sim.ListAllAsync(http.RequestAborted))
            {
                boxes.Add(new SimInstanceAnswer(sim.Name, instance.InstanceId, instance.State.ToWire(), instance.Tags, instance.LaunchedAt));
            }
        }

        return TypedResults.Ok<IReadOnlyList<SimInstanceAnswer>>(boxes);
    }

    public static async Task<Results<Ok<SimKillAnswer>, ProblemResult>> KillAsync(HttpContext http, string provider, string instanceId,
        ProviderRegistry providers)
    {
        if (!providers.TryGet(provider, out var found) || found is not SimProvider sim)
        {
            return Problems.BadProvider($"'{provider}' is not a sim provider");
        }

        return await sim.KillAsync(instanceId, http.RequestAborted)
            ? TypedResults.Ok(new SimKillAnswer(provider, instanceId, "terminated"))
            : Problems.NotFound("live instance");
    }

    public static async Task<Results<Ok<SimFaultsAnswer>, ProblemResult>> PutFaultsAsync(HttpContext http, ProviderRegistry providers)
    {
        var (body, _, problem) = await JsonBody.ReadObjectAsync(http.Request, required: true, http.RequestAborted);
        if (problem is not null)
        {
            return problem;
        }

        if (!Fields.TryString(body!, "provider", 1, 64, out var provider, out var error)
            || !Fields.TryString(body!, "call", 1, 16, out var call, out error)
            || !Fields.TryInt(body!, "latency_ms", 0, 60_000, out var latency, out error)
            || !Fields.TryInt(body!, "fail_next", 0, 1_000_000, out var failNext, out error)
            || !Fields.TryDouble(body!, "failure_rate", out var rate, out error))
        {
            return Problems.Validation(error!);
        }

        if (rate is < 0 or > 1)
        {
            return Problems.Validation("failure_rate must be from 0 to 1");
        }

        var targets = SimProviders(providers).Where(p => provider is null || p.Name == provider).ToArray();
        if (targets.Length == 0)
        {
            return Problems.BadProvider($"'{provider}' is not a sim provider");
        }

        var fault = new SimFault(rate ?? 0, latency ?? 0, failNext ?? 0);
        SimCall? only = call switch
        {
            null or "all" => null,
            "provision" => SimCall.Provision,
            "describe" => SimCall.Describe,
            "terminate" => SimCall.Terminate,
            "list" => SimCall.List,
            _ => (SimCall)(-1),
        };
        if (only == (SimCall)(-1))
        {
            return Problems.Validation("call must be one of: provision, describe, terminate, list, all");
        }

        foreach (var sim in targets)
        {
            if (only is { } single)
            {
                sim.Faults.Set(single, fault);
            }
            else
            {
                sim.Faults.SetAll(fault);
            }
        }

        return TypedResults.Ok(new SimFaultsAnswer("set", targets.Select(t => t.Name).ToArray()));
    }

    public static Ok<StatusAnswer> ClearFaults(ProviderRegistry providers)
    {
        foreach (var sim in SimProviders(providers))
        {
            sim.Faults.Clear();
        }

        return TypedResults.Ok(new StatusAnswer("cleared"));
    }

    public static IEnumerable<SimProvider> SimProviders(ProviderRegistry providers) => providers.All.OfType<SimProvider>();
}
