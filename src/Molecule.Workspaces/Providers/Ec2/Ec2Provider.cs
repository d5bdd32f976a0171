using Amazon.EC2;
using Amazon.EC2.Model;
using Amazon.Runtime;
using Microsoft.Extensions.Logging;

namespace Molecule.Workspaces.Providers.Ec2;

/// <summary>
/// The <c>ec2</c> provider: one AWS account and region, boxes tagged <c>molecule:deployment</c>.
/// Every call is one HTTP attempt bounded by <see cref="Ec2ProviderOptions.CallTimeout"/>; retrying is the caller's job
/// (see <see cref="Ec2ClientFactory"/>). Failures are <see cref="ProviderException"/>s classified by
/// <see cref="Ec2ErrorClassifier"/>; the caller's own cancellation propagates as <see cref="OperationCanceledException"/>.
/// </summary>
public sealed class Ec2Provider : IComputeProvider
{
    /// <summary>The value of <see cref="Type"/> and of <c>Molecule:Providers:&lt;name&gt;:Type</c>.</summary>
    public const string ProviderType = "ec2";

    /// <summary>EC2's limit on ids per <c>DescribeInstances</c> filter and per <c>TerminateInstances</c> call.</summary>
    public const int MaxIdsPerCall = 1000;

    private const string InstanceNotFoundCode = "InvalidInstanceID.NotFound";

    /// <summary>Batch errors caused by some of the ids in it; the batch is split until the bad ids stand alone.</summary>
    private static readonly HashSet<string> IdAttributableCodes = [InstanceNotFoundCode, "InvalidInstanceID.Malformed"];

    private readonly IAmazonEC2 ec2;
    private readonly Ec2ProviderOptions options;
    private readonly string deploymentId;
    private readonly TimeProvider timeProvider;
    private readonly ILogger logger;
    private readonly Ec2CallRunner calls;
    private readonly Ec2LaunchRequestBuilder launch;
    private string? lookedUpRootDeviceName;

    /// <summary>Validates <paramref name="options"/> (throws <see cref="InvalidOperationException"/>) and keeps the client; the caller owns the client.</summary>
    public Ec2Provider(IAmazonEC2 ec2, string name, Ec2ProviderOptions options, string deploymentId, TimeProvider timeProvider, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(ec2);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(deploymentId);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(logger);
        options.Validate(name);

        this.ec2 = ec2;
        Name = name;
        this.options = options;
        this.deploymentId = deploymentId;
        this.timeProvider = timeProvider;
        this.logger = logger;
        calls = new Ec2CallRunner(name, options.CallTimeout, timeProvider);
        launch = new Ec2LaunchRequestBuilder(options, name, deploymentId);
    }

    public string Name { get; }

    public string Type => ProviderType;

    /// <summary>
    /// One <c>RunInstances</c> with a <c>ClientToken</c> derived from <paramref name="idempotencyToken"/> and every tag
    /// in the same call. A requested instance type outside the allow-list is terminal before any call;
    /// <c>IdempotentParameterMismatch</c> is terminal, <c>InsufficientInstanceCapacity</c> and friends are capacity.
    /// </summary>
    public async Task<string> ProvisionAsync(InstanceSpec spec, string idempotencyToken, IReadOnlyDictionary<string, string> tags, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentException.ThrowIfNullOrWhiteSpace(idempotencyToken);
        ArgumentNullException.ThrowIfNull(tags);

        // Chosen first, so a type outside the allow-list costs no DescribeImages either.
        var instanceType = launch.ChooseInstanceType(spec.InstanceType);
        var rootDeviceName = spec.RootVolumeGb > 0 ? await RootDeviceNameAsync(ct) : null;
        var request = launch.Build(spec, instanceType, idempotencyToken, tags, rootDeviceName);

        var response = await calls.RunAsync("RunInstances", c => ec2.RunInstancesAsync(request, c), ct);

        var instanceId = response.Reservation?.Instances?.FirstOrDefault()?.InstanceId;
        if (string.IsNullOrEmpty(instanceId))
        {
            // Unknown whether a box started; a retry under the same token answers with it if it did.
            throw new ProviderException(Name, ProviderErrorKind.Transient, "RunInstances answered without an instance id");
        }

        logger.LogInformation(
            "provisioned instance {instance_id} on {provider} with client token {client_token}",
            instanceId, Name, request.ClientToken);
        return instanceId;
    }

    /// <summary>
    /// <c>DescribeInstances</c> by the <c>instance-id</c> filter, which (unlike <c>InstanceIds</c>) lets one unknown id
    /// simply be absent instead of failing the batch; ≤ 1000 ids a call, every page followed. Absent ids are
    /// <see cref="InstanceState.NotFound"/>. Any failed call fails the whole answer: no partial truth.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, InstanceState>> DescribeAsync(IReadOnlyCollection<string> instanceIds, CancellationToken ct)
    {
        var ids = DistinctIds(instanceIds);
        var states = new Dictionary<string, InstanceState>(ids.Count, StringComparer.Ordinal);

        foreach (var chunk in ids.Chunk(MaxIdsPerCall))
        {
            var requested = chunk.ToHashSet(StringComparer.Ordinal);
            var filters = new List<Filter> { new("instance-id", [.. chunk]) };
            foreach (var instance in await DescribeAllPagesAsync(filters, ct))
            {
                if (requested.Contains(instance.InstanceId))
                {
                    states[instance.InstanceId] = Ec2InstanceStates.Of(instance, Name);
                }
            }
        }

        foreach (var id in ids)
        {
            states.TryAdd(id, InstanceState.NotFound);
        }

        return states;
    }

    /// <summary>
    /// <c>TerminateInstances</c> in chunks of ≤ 1000. A chunk failing with <c>InvalidInstanceID.NotFound</c> or
    /// <c>.Malformed</c> terminated nothing, so it is halved until the bad ids stand alone: a not-found id is already
    /// gone (terminated), a malformed one failed, the rest are terminated. Any other failure, transient or terminal,
    /// becomes a failed result for each id of that chunk, so one bad chunk never hides the others' answers; this method
    /// throws only for the caller's cancellation.
    /// </summary>
    /// <remarks>
    /// EC2 is eventually consistent: a box started seconds ago can be "not found". It then counts as terminated here,
    /// and the orphan sweeper, which lists by tag, terminates it once it becomes visible.
    /// </remarks>
    public async Task<IReadOnlyDictionary<string, TerminateResult>> TerminateAsync(IReadOnlyCollection<string> instanceIds, CancellationToken ct)
    {
        var ids = DistinctIds(instanceIds);
        var results = new Dictionary<string, TerminateResult>(ids.Count, StringComparer.Ordinal);

        foreach (var chunk in ids.Chunk(MaxIdsPerCall))
        {
            await TerminateBatchAsync(chunk, results, ct);
        }

        return results;
    }

    /// <summary>
    /// One <c>DescribeInstances</c> page (up to 1000) filtered by <c>tag:molecule:deployment</c> and every state but
    /// terminated, and EC2's <c>NextToken</c> for the next one. A box without a launch time is reported as launched
    /// now, so no age-based decision can act on it yet.
    /// </summary>
    public async Task<ManagedInstancePage> ListManagedAsync(string? pageToken, CancellationToken ct)
    {
        List<Filter> filters =
        [
            new($"tag:{ProviderTags.Deployment}", [deploymentId]),
            new("instance-state-name", [.. Ec2InstanceStates.NotTerminatedNames]),
        ];
        var (page, nextToken) = await DescribePageAsync(filters, pageToken, ct);

        var now = timeProvider.GetUtcNow();
        var instances = page
            .Select(i => new ManagedInstance(
                i.InstanceId,
                Ec2InstanceStates.Of(i, Name),
                i.LaunchTime is { } launched ? ToUtc(launched) : now,
                (i.Tags ?? []).ToDictionary(t => t.Key, t => t.Value ?? "", StringComparer.Ordinal)))
            .Where(i => i.State != InstanceState.Terminated)
            .ToList();
        return new ManagedInstancePage(instances, nextToken);
    }

    private async Task TerminateBatchAsync(IReadOnlyList<string> batch, Dictionary<string, TerminateResult> results, CancellationToken ct)
    {
        try
        {
            var response = await calls.RunAsync(
                "TerminateInstances",
                c => ec2.TerminateInstancesAsync(new TerminateInstancesRequest { InstanceIds = [.. batch] }, c),
                ct);

            var terminating = (response.TerminatingInstances ?? []).Select(i => i.InstanceId).ToHashSet(StringComparer.Ordinal);
            foreach (var id in batch)
            {
                results[id] = terminating.Contains(id)
                    ? TerminateResult.Ok
                    : TerminateResult.Failed($"{Name}: TerminateInstances answered without {id}");
            }
        }
        catch (ProviderException ex) when (ex.InnerException is AmazonServiceException { ErrorCode: { } code } && IdAttributableCodes.Contains(code))
        {
            if (batch.Count == 1)
            {
                // Already gone counts as terminated; a malformed id can never be terminated.
                results[batch[0]] = code == InstanceNotFoundCode ? TerminateResult.Ok : TerminateResult.Failed(ex.Message);
                return;
            }

            var half = batch.Count / 2;
            await TerminateBatchAsync(batch.Take(half).ToList(), results, ct);
            await TerminateBatchAsync(batch.Skip(half).ToList(), results, ct);
        }
        catch (ProviderException ex)
        {
            logger.LogWarning(ex, "terminate of {count} instances on {provider} failed ({kind})", batch.Count, Name, ex.Kind);
            foreach (var id in batch)
            {
                results[id] = TerminateResult.Failed(ex.Message);
            }
        }
    }

    private async Task<List<Instance>> DescribeAllPagesAsync(List<Filter> filters, CancellationToken ct)
    {
        var instances = new List<Instance>();
        string? nextToken = null;
        do
        {
            var (page, next) = await DescribePageAsync(filters, nextToken, ct);
            instances.AddRange(page);
            nextToken = next;
        }
        while (nextToken is not null);

        return instances;
    }

    /// <summary>One <c>DescribeInstances</c> page, flattened, and EC2's token for the next one (null after the last).</summary>
    private async Task<(IEnumerable<Instance> Instances, string? NextToken)> DescribePageAsync(List<Filter> filters, string? pageToken, CancellationToken ct)
    {
        // A fresh request per page, so every call's parameters stay as they were sent.
        var request = new DescribeInstancesRequest { Filters = filters, MaxResults = MaxIdsPerCall, NextToken = pageToken };
        var response = await calls.RunAsync("DescribeInstances", c => ec2.DescribeInstancesAsync(request, c), ct);
        if (!string.IsNullOrEmpty(response.NextToken) && response.NextToken == pageToken)
        {
            throw new ProviderException(Name, ProviderErrorKind.Transient, "DescribeInstances returned the same NextToken twice");
        }

        return ((response.Reservations ?? []).SelectMany(r => r.Instances ?? []), string.IsNullOrEmpty(response.NextToken) ? null : response.NextToken);
    }

    private async Task<string> RootDeviceNameAsync(CancellationToken ct)
    {
        if (!string.IsNullOrEmpty(options.RootDeviceName))
        {
            return options.RootDeviceName;
        }

        if (lookedUpRootDeviceName is { } cached)
        {
            return cached;
        }

        var response = await calls.RunAsync(
            "DescribeImages",
            c => ec2.DescribeImagesAsync(new DescribeImagesRequest { ImageIds = [options.ImageId] }, c),
            ct);

        var image = response.Images?.FirstOrDefault(i => i.ImageId == options.ImageId);
        if (string.IsNullOrEmpty(image?.RootDeviceName))
        {
            throw new ProviderException(Name, ProviderErrorKind.Terminal, $"image {options.ImageId} was not found or has no root device");
        }

        // A race here only looks the same value up twice.
        lookedUpRootDeviceName = image.RootDeviceName;
        return image.RootDeviceName;
    }

    private static List<string> DistinctIds(IReadOnlyCollection<string> instanceIds)
    {
        ArgumentNullException.ThrowIfNull(instanceIds);
        if (instanceIds.Any(string.IsNullOrWhiteSpace))
        {
            throw new ArgumentException("instance ids must not be null or blank", nameof(instanceIds));
        }

        return instanceIds.Distinct(StringComparer.Ordinal).ToList();
    }

    private static DateTimeOffset ToUtc(DateTime time) => time.Kind switch
    {
        DateTimeKind.Local => new DateTimeOffset(time.ToUniversalTime(), TimeSpan.Zero),
        DateTimeKind.Unspecified => new DateTimeOffset(DateTime.SpecifyKind(time, DateTimeKind.Utc), TimeSpan.Zero),
        _ => new DateTimeOffset(time, TimeSpan.Zero),
    };
}
