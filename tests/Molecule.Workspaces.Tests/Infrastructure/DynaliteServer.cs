using System.Diagnostics;
using System.Text.Json.Nodes;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Amazon.Runtime;
using Molecule.Workspaces.Operations.DynamoDb;

namespace Molecule.Workspaces.Tests.Infrastructure;

/// <summary>
/// dynalite (an in-memory DynamoDB, from <c>infra/checks/node_modules</c>) on a free loopback port for one test class,
/// with the dispatch table created as template.yaml declares it (key <c>operation_id</c>). It has no streams, so tests
/// read the item back. Ends with the class; it also exits by itself if this process dies (its stdin closes).
/// </summary>
public sealed class DynaliteServer : IAsyncLifetime
{
    public const string TableName = "molecule-dispatch-test";

    private Process? process;

    public string ServiceUrl { get; private set; } = "";

    public async Task InitializeAsync()
    {
        RepositoryPaths.CheckModule("dynalite", "package.json");
        process = NodeCommand.Start(Path.Combine(RepositoryPaths.Checks, "start-dynalite.cjs"));
        var firstLine = process.StandardOutput.ReadLineAsync();
        if (await Task.WhenAny(firstLine, Task.Delay(TimeSpan.FromSeconds(30))) != firstLine || await firstLine is not { } line)
        {
            throw new InvalidOperationException($"dynalite did not start: {await ReadErrorsAsync()}");
        }

        ServiceUrl = $"http://127.0.0.1:{(int)JsonNode.Parse(line)!["port"]!}";
        using var client = CreateClient();
        await client.CreateTableAsync(new CreateTableRequest
        {
            TableName = TableName,
            KeySchema = [new KeySchemaElement("operation_id", KeyType.HASH)],
            AttributeDefinitions = [new AttributeDefinition("operation_id", ScalarAttributeType.S)],
            BillingMode = BillingMode.PAY_PER_REQUEST,
        });
    }

    public async Task DisposeAsync()
    {
        if (process is null)
        {
            return;
        }

        process.StandardInput.Close();
        if (!process.WaitForExit(TimeSpan.FromSeconds(5)))
        {
            process.Kill(entireProcessTree: true);
        }

        await process.WaitForExitAsync();
        process.Dispose();
    }

    /// <summary>The dispatcher's options pointed at this server.</summary>
    public DynamoDbDispatchOptions Options(double timeoutSeconds = 3) =>
        new() { TableName = TableName, ServiceUrl = ServiceUrl, TimeoutSeconds = timeoutSeconds };

    /// <summary>A client built exactly as the host builds it, with static credentials (dynalite checks none).</summary>
    public IAmazonDynamoDB CreateClient() => CreateClient(Options());

    public static IAmazonDynamoDB CreateClient(DynamoDbDispatchOptions options)
    {
        var config = DynamoDbClientFactory.CreateConfig(options);
        config.AuthenticationRegion = "us-east-1";
        return new AmazonDynamoDBClient(new BasicAWSCredentials("test", "test"), config);
    }

    /// <summary>The dispatch item of an operation, or null.</summary>
    public async Task<Dictionary<string, AttributeValue>?> ItemAsync(Guid operationId)
    {
        using var client = CreateClient();
        var response = await client.GetItemAsync(new GetItemRequest
        {
            TableName = TableName,
            Key = new Dictionary<string, AttributeValue> { ["operation_id"] = new() { S = operationId.ToString() } },
            ConsistentRead = true,
        });
        return response.IsItemSet ? response.Item : null;
    }

    private async Task<string> ReadErrorsAsync()
    {
        if (process is null)
        {
            return "";
        }

        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
        }

        return await process.StandardError.ReadToEndAsync();
    }
}
