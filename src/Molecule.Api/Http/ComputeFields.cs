using System.Text.Json.Nodes;
using Molecule.Workspaces.Domain;
using Molecule.Workspaces.Providers;

namespace Molecule.Api.Http;

/// <summary>Validation of a <c>compute</c> object from a request body.</summary>
public static class ComputeFields
{
    public static (Compute? Compute, IResult? Problem) Parse(JsonObject? body, ProviderRegistry providers, string defaultProvider)
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

        provider ??= defaultProvider;
        if (!providers.TryGet(provider, out _))
        {
            return (null, Problems.BadProvider($"'{provider}' is not one of: {string.Join(", ", providers.All.Select(p => p.Name))}"));
        }

        if (instanceType is not null && !instanceType.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_'))
        {
            return (null, Problems.Validation("compute.instance_type must be letters, digits, '.', '-' or '_'"));
        }

        if (persistence is not null && persistence is not (Compute.Persist or Compute.Ephemeral))
        {
            return (null, Problems.Validation("compute.data_persistence must be 'persist' or 'ephemeral'"));
        }

        return (new Compute
        {
            Provider = provider,
            InstanceType = instanceType,
            DataPersistence = persistence ?? Compute.Ephemeral,
            Volume = rootGb is null ? null : new ComputeVolume { RootGb = rootGb },
        }, null);
    }
}
