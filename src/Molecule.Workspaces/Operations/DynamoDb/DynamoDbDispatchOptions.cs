using Microsoft.Extensions.Configuration;
using Molecule.Workspaces.Hosting;

namespace Molecule.Workspaces.Operations.DynamoDb;

/// <summary>
/// <c>Molecule:Dispatch:*</c> with <c>Mode = dynamodb</c>: where operations are handed to Step Functions. Region and
/// credentials come from the standard AWS chain (the Lambda's environment and role); nothing secret is configured.
/// </summary>
public sealed class DynamoDbDispatchOptions
{
    public const string SectionName = "Molecule:Dispatch";

    /// <summary>The dispatch table (partition key <c>operation_id</c>, stream on). Required.</summary>
    public string TableName { get; set; } = "";

    /// <summary>An endpoint to use instead of the region's (a local emulator such as dynalite). <value>The default is none.</value></summary>
    public string? ServiceUrl { get; set; }

    /// <summary>
    /// How long one hand-off may take, in seconds, SDK retries included. The request that started the operation waits
    /// for it, so it stays well below the API's 30 s; a hand-off that runs out leaves the operation <c>pending</c> for
    /// the outbox repair. <value>The default is 3 s (0 to 20).</value>
    /// </summary>
    public double TimeoutSeconds { get; set; } = 3;

    /// <summary>How long an item stays in the table (its <c>expires_at</c> TTL). The stream has long carried it by then.</summary>
    public static TimeSpan ItemLifetime { get; } = TimeSpan.FromDays(1);

    public TimeSpan Timeout => TimeSpan.FromSeconds(TimeoutSeconds);

    /// <summary>The section bound and validated (<see cref="Validate"/>).</summary>
    public static DynamoDbDispatchOptions From(IConfiguration configuration) =>
        (configuration.GetSection(SectionName).Get<DynamoDbDispatchOptions>() ?? new DynamoDbDispatchOptions()).Validate();

    /// <summary>Refuses, at start-up and naming the setting, a configuration that cannot hand anything off.</summary>
    public DynamoDbDispatchOptions Validate()
    {
        if (string.IsNullOrWhiteSpace(TableName))
        {
            throw new InvalidOperationException($"{SectionName}:TableName is required with {SectionName}:Mode 'dynamodb'");
        }

        OptionRules.Require(TimeoutSeconds is not (<= 0 or > 20), SectionName, nameof(TimeoutSeconds), TimeoutSeconds, "must be above 0 and at most 20");
        OptionRules.Require(ServiceUrl is not { Length: > 0 } || Uri.TryCreate(ServiceUrl, UriKind.Absolute, out _),
            SectionName, nameof(ServiceUrl), ServiceUrl, "must be an absolute URL");
        return this;
    }
}
