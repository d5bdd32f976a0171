using System.Security.Cryptography;
using System.Text;
using Amazon.EC2;
using Amazon.EC2.Model;

namespace Molecule.Workspaces.Providers.Ec2;

/// <summary>
/// Builds the one <c>RunInstances</c> request a provision makes. Everything in it is derived deterministically
/// from the options, the spec and the token, so a retried provision sends the same parameters under the same
/// <c>ClientToken</c> (EC2 answers a changed request under an old token with <c>IdempotentParameterMismatch</c>).
/// </summary>
internal sealed class Ec2LaunchRequestBuilder(Ec2ProviderOptions options, string providerName, string deploymentId)
{
    /// <summary>EC2's limit on <c>ClientToken</c>.</summary>
    public const int MaxClientTokenLength = 64;

    private const string ClientTokenPrefix = "molecule-";

    /// <summary>
    /// <c>molecule-</c> + the token when that fits (an operation id Guid does: 45 characters), so the token can be
    /// read in the console; otherwise <c>molecule-</c> + the first 55 hex digits of the token's SHA-256.
    /// </summary>
    public static string ClientToken(string idempotencyToken)
    {
        var readable = ClientTokenPrefix + idempotencyToken;
        if (readable.Length <= MaxClientTokenLength && readable.All(IsTokenChar))
        {
            return readable;
        }

        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(idempotencyToken)));
        return ClientTokenPrefix + hash[..(MaxClientTokenLength - ClientTokenPrefix.Length)];
    }

    /// <summary>The type to start: the default for none, the allow-list's spelling for an allowed one, else a terminal error.</summary>
    public string ChooseInstanceType(string? requested)
    {
        if (string.IsNullOrWhiteSpace(requested) || string.Equals(requested, options.InstanceType, StringComparison.OrdinalIgnoreCase))
        {
            return options.InstanceType;
        }

        return options.AllowedInstanceTypes.FirstOrDefault(t => string.Equals(t, requested, StringComparison.OrdinalIgnoreCase))
            ?? throw new ProviderException(
                providerName,
                ProviderErrorKind.Terminal,
                $"instance type '{requested}' is not allowed (allowed: {string.Join(", ", options.AllowedInstanceTypes.Prepend(options.InstanceType).Distinct())})");
    }

    /// <summary>
    /// The tags of the box and its volumes, later entries winning: <c>Name</c> = <c>molecule-&lt;workspace id&gt;</c>
    /// (or <c>molecule-&lt;deployment&gt;</c>), then the configured extra tags, then the caller's tags, then
    /// <c>molecule:deployment</c>, which nothing can override because <c>ListManagedAsync</c> finds boxes by it.
    /// </summary>
    public Dictionary<string, string> Tags(IReadOnlyDictionary<string, string> callerTags)
    {
        var name = callerTags.TryGetValue(ProviderTags.WorkspaceId, out var workspaceId) ? workspaceId : deploymentId;
        var tags = new Dictionary<string, string>(StringComparer.Ordinal) { [ProviderTags.Name] = $"molecule-{name}" };
        foreach (var (key, value) in options.Tags.Concat(callerTags))
        {
            tags[key] = value;
        }

        tags[ProviderTags.Deployment] = deploymentId;
        return tags;
    }

    /// <summary>The user data, rendered and base64-encoded, or null when none is configured.</summary>
    public string? UserData(IReadOnlyDictionary<string, string> callerTags)
    {
        if (string.IsNullOrEmpty(options.UserData))
        {
            return null;
        }

        var rendered = new StringBuilder(options.UserData)
            .Replace("{workspace_id}", callerTags.GetValueOrDefault(ProviderTags.WorkspaceId, ""))
            .Replace("{operation_id}", callerTags.GetValueOrDefault(ProviderTags.OperationId, ""))
            .Replace("{deployment}", deploymentId)
            .Replace("{provider}", providerName)
            .ToString();
        return Convert.ToBase64String(Encoding.UTF8.GetBytes(rendered));
    }

    /// <summary>
    /// The complete request. <paramref name="instanceType"/> comes from <see cref="ChooseInstanceType"/>;
    /// <paramref name="rootDeviceName"/> is needed only when the spec sizes the root volume.
    /// </summary>
    /// <remarks><see cref="InstanceSpec.DataPersistence"/> is not used: a box's disk never outlives the box on this provider.</remarks>
    public RunInstancesRequest Build(
        InstanceSpec spec,
        string instanceType,
        string idempotencyToken,
        IReadOnlyDictionary<string, string> callerTags,
        string? rootDeviceName)
    {
        var tags = Tags(callerTags);
        var request = new RunInstancesRequest
        {
            ClientToken = ClientToken(idempotencyToken),
            MinCount = 1,
            MaxCount = 1,
            ImageId = options.ImageId,
            InstanceType = InstanceType.FindValue(instanceType),
            SubnetId = options.SubnetId,
            KeyName = options.KeyName,
            UserData = UserData(callerTags),

            // In the same call: a box can never exist without its molecule:deployment tag.
            TagSpecifications =
            [
                new TagSpecification { ResourceType = ResourceType.Instance, Tags = ToTagList(tags) },
                new TagSpecification { ResourceType = ResourceType.Volume, Tags = ToTagList(tags) },
            ],
        };

        // SDK v4 sends an empty list as an empty parameter, so collections are set only when there is something in them.
        if (options.SecurityGroupIds.Length > 0)
        {
            request.SecurityGroupIds = [.. options.SecurityGroupIds];
        }

        if (!string.IsNullOrEmpty(options.IamInstanceProfile))
        {
            request.IamInstanceProfile = options.IamInstanceProfile.StartsWith("arn:", StringComparison.Ordinal)
                ? new IamInstanceProfileSpecification { Arn = options.IamInstanceProfile }
                : new IamInstanceProfileSpecification { Name = options.IamInstanceProfile };
        }

        if (spec.RootVolumeGb is { } rootGb)
        {
            if (rootGb <= 0)
            {
                throw new ProviderException(providerName, ProviderErrorKind.Terminal, $"root volume of {rootGb} GiB cannot be requested");
            }

            ArgumentException.ThrowIfNullOrEmpty(rootDeviceName);

            // Only the size: EC2 keeps the AMI's snapshot, volume type and delete-on-termination for the rest.
            request.BlockDeviceMappings = [new BlockDeviceMapping { DeviceName = rootDeviceName, Ebs = new EbsBlockDevice { VolumeSize = rootGb } }];
        }

        return request;
    }

    private static bool IsTokenChar(char c) => c is > ' ' and <= '~';

    private static List<Tag> ToTagList(Dictionary<string, string> tags) => [.. tags.Select(t => new Tag(t.Key, t.Value))];
}
