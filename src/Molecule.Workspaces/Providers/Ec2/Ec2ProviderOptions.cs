namespace Molecule.Workspaces.Providers.Ec2;

/// <summary>
/// One named <c>ec2</c> provider, bound from <c>Molecule:Providers:&lt;name&gt;:*</c>.
/// Credentials are never configured here: the client takes them from the standard AWS chain
/// (environment, shared profile, container or instance role).
/// </summary>
public sealed class Ec2ProviderOptions
{
    /// <summary>The default per-call timeout.</summary>
    public static readonly TimeSpan DefaultCallTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The AWS region, e.g. <c>us-east-1</c>. Also the signing region when <see cref="ServiceUrl"/> is set.</summary>
    /// <value>Required; there is no default.</value>
    public string Region { get; set; } = "";

    /// <summary>An endpoint to use instead of the regional one: a VPC interface endpoint or an EC2-compatible emulator.</summary>
    /// <value>The default is null: the public regional endpoint.</value>
    public string? ServiceUrl { get; set; }

    /// <summary>The AMI every box starts from, e.g. <c>ami-0123456789abcdef0</c>.</summary>
    /// <value>Required; there is no default.</value>
    public string ImageId { get; set; } = "";

    /// <summary>The instance type used when a workspace asks for none. Always allowed.</summary>
    /// <value>Required; there is no default.</value>
    public string InstanceType { get; set; } = "";

    /// <summary>
    /// The instance types a workspace may ask for (<c>compute.instance_type</c>), compared ignoring case.
    /// A request for any other type fails provision with a terminal error.
    /// </summary>
    /// <value>The default is empty: only <see cref="InstanceType"/> is accepted.</value>
    public string[] AllowedInstanceTypes { get; set; } = [];

    /// <summary>The subnet boxes start in (which also fixes the availability zone).</summary>
    /// <value>The default is null: the default subnet of the default VPC.</value>
    public string? SubnetId { get; set; }

    /// <summary>Security group ids for the box's network interface.</summary>
    /// <value>The default is empty: the VPC's default security group.</value>
    public string[] SecurityGroupIds { get; set; } = [];

    /// <summary>The instance profile (name, or ARN starting with <c>arn:</c>) the box runs with.</summary>
    /// <value>The default is null: no instance profile.</value>
    public string? IamInstanceProfile { get; set; }

    /// <summary>The EC2 key pair for SSH access.</summary>
    /// <value>The default is null: no key pair.</value>
    public string? KeyName { get; set; }

    /// <summary>
    /// The user-data template, sent base64-encoded (UTF-8). Placeholders, replaced verbatim:
    /// <c>{workspace_id}</c>, <c>{operation_id}</c> (from the <c>molecule:workspace-id</c> and
    /// <c>molecule:operation-id</c> tags, empty when absent), <c>{deployment}</c> and <c>{provider}</c>.
    /// The rendering is deterministic, so a retried provision sends the same parameters for the same token.
    /// </summary>
    /// <value>The default is null: no user data. EC2 limits the raw text to 16 KB.</value>
    public string? UserData { get; set; }

    /// <summary>
    /// The root device of <see cref="ImageId"/> (e.g. <c>/dev/xvda</c>), used to resize the root volume when a
    /// workspace asks for <c>volume.root_gb</c>.
    /// </summary>
    /// <value>The default is null: looked up once with <c>DescribeImages</c> (needs <c>ec2:DescribeImages</c>) and cached.</value>
    public string? RootDeviceName { get; set; }

    /// <summary>
    /// Extra tags put on every box and its volumes. Keys starting with <c>molecule:</c> or <c>aws:</c> are reserved
    /// and rejected; the call's own tags win over these on the same key.
    /// </summary>
    /// <value>The default is empty.</value>
    public Dictionary<string, string> Tags { get; set; } = [];

    /// <summary>
    /// How long one EC2 call (one HTTP attempt: SDK retries are off) may take before it fails as transient.
    /// A caller's own cancellation still ends the call sooner.
    /// </summary>
    /// <value>The default is 10 seconds; must be positive.</value>
    public TimeSpan CallTimeout { get; set; } = DefaultCallTimeout;

    /// <summary>Throws <see cref="InvalidOperationException"/> naming every invalid setting of provider <paramref name="providerName"/>.</summary>
    public void Validate(string providerName)
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(Region))
        {
            errors.Add("Region is required");
        }

        if (string.IsNullOrWhiteSpace(ImageId))
        {
            errors.Add("ImageId is required");
        }

        if (string.IsNullOrWhiteSpace(InstanceType))
        {
            errors.Add("InstanceType is required");
        }

        if (ServiceUrl is not null && !Uri.TryCreate(ServiceUrl, UriKind.Absolute, out _))
        {
            errors.Add($"ServiceUrl '{ServiceUrl}' is not an absolute URL");
        }

        if (CallTimeout <= TimeSpan.Zero)
        {
            errors.Add("CallTimeout must be positive");
        }

        foreach (var key in Tags.Keys.Where(IsReservedTagKey))
        {
            errors.Add($"tag key '{key}' is reserved");
        }

        if (errors.Count > 0)
        {
            throw new InvalidOperationException($"Molecule:Providers:{providerName}: {string.Join("; ", errors)}");
        }
    }

    private static bool IsReservedTagKey(string key) =>
        key.StartsWith("molecule:", StringComparison.OrdinalIgnoreCase) || key.StartsWith("aws:", StringComparison.OrdinalIgnoreCase);
}
