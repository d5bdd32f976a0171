using System.Text.Json.Nodes;
using Molecule.Api.Contract;
using Molecule.Workspaces.Domain;
using Molecule.Workspaces.Providers;

namespace Molecule.Api.Http;

/// <summary>Validation of a <c>compute</c> object from a request body, into the <see cref="ComputeRequest"/> it describes.</summary>
public static class ComputeFields
{
    public static (ComputeRequest? Compute, ProblemResult? Problem) Parse(JsonObject? body, ProviderRegistry providers)
    {
        body ??= [];
        if (!Fields.TryString(body, "provider", 1, 64, out var provider, out var error)
            || !Fields.TryString(body, "instance_type", 1, 64, out var instanceType, out error)
            || !Fields.TryString(body, "data_persistence", 1, 16, out var persistence, out error)
            || !Fields.TryObject(body, "volume", out var volume, out error))
        {
            return (null, Problems.Validation("compute." + error));
        }

        int? rootGb = null;
        if (volume is not null && !Fields.TryInt(volume, "root_gb", 8, 16384, out rootGb, out error))
        {
            return (null, Problems.Validation("compute.volume." + error));
        }

        var resolved = provider ?? providers.DefaultProvider;
        if (!providers.TryGet(resolved, out _))
        {
            return (null, Problems.BadProvider($"'{resolved}' is not one of: {string.Join(", ", providers.All.Select(p => p.Name))}"));
        }

        if (instanceType is not null && !instanceType.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_'))
        {
            return (null, Problems.Validation("compute.instance_type must be letters, digits, '.', '-' or '_'"));
        }

        if (persistence is not null && persistence is not (Compute.Persist or Compute.Ephemeral))
        {
            return (null, Problems.Validation("compute.data_persistence must be 'persist' or 'ephemeral'"));
        }

        return (new ComputeRequest
        {
            Provider = provider,
            InstanceType = instanceType,
            DataPersistence = persistence,
            Volume = volume is null ? null : new VolumeRequest { RootGb = rootGb },
        }, null);
    }

    /// <summary>The compute a validated request asks for, the configured defaults filled in.</summary>
    public static Compute ToCompute(ComputeRequest? request, string defaultProvider) => new()
    {
        Provider = request?.Provider ?? defaultProvider,
        InstanceType = request?.InstanceType,
        DataPersistence = request?.DataPersistence ?? Compute.Ephemeral,
        Volume = request?.Volume?.RootGb is { } rootGb ? new ComputeVolume { RootGb = rootGb } : null,
    };
}
