using System.Globalization;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Microsoft.Extensions.Logging;
using Molecule.Workspaces.Store;

namespace Molecule.Workspaces.Operations.DynamoDb;

/// <summary>
/// The AWS dispatcher: one item per hand-off in the dispatch table, whose stream feeds an EventBridge Pipe that starts
/// the state machine with <c>[{"operation_id": …}]</c> (DESIGN §5.4). Each hand-off is counted in Postgres first and
/// written with that <c>dispatch_count</c>, so a re-dispatch by the outbox repair rewrites the item (a MODIFY record,
/// a new execution) and the put's condition keeps an older hand-off from overwriting a newer one. A hand-off that
/// fails or times out throws; the operation stays <c>pending</c> and the outbox repair dispatches it again.
/// </summary>
public sealed class DynamoDbOperationDispatcher(
    IAmazonDynamoDB dynamo,
    OperationStore operations,
    DynamoDbDispatchOptions options,
    TimeProvider time,
    ILogger<DynamoDbOperationDispatcher> logger) : IOperationDispatcher
{
    // newest hand-off wins: a put carrying an older (or the same) count than the item's changes nothing
    private const string NewerOnly = "attribute_not_exists(operation_id) OR dispatch_count < :dispatch_count";

    public async Task DispatchAsync(Guid operationId, CancellationToken ct)
    {
        using var timeout = new CancellationTokenSource(options.Timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, timeout.Token);
        try
        {
            var handOff = await operations.MarkDispatchedAsync(operationId, linked.Token);
            if (handOff is null)
            {
                logger.LogWarning("operation {operation_id} to hand off does not exist", operationId);
                return;
            }

            await PutAsync(handOff, linked.Token);
        }
        catch (OperationCanceledException ex) when (!ct.IsCancellationRequested)
        {
            // our budget, or the SDK's per-attempt timeout: either way a timeout, never the caller's cancellation
            throw new TimeoutException($"the hand-off of operation {operationId} to {options.TableName} took longer than {options.Timeout}", ex);
        }
    }

    private async Task PutAsync(HandOff handOff, CancellationToken ct)
    {
        var expiresAt = (time.GetUtcNow() + DynamoDbDispatchOptions.ItemLifetime).ToUnixTimeSeconds();
        var request = new PutItemRequest
        {
            TableName = options.TableName,
            Item = new Dictionary<string, AttributeValue>
            {
                ["operation_id"] = new() { S = handOff.OperationId.ToString() },
                ["workspace_id"] = new() { S = handOff.WorkspaceId.ToString() },
                ["kind"] = new() { S = handOff.Kind },
                ["dispatch_count"] = new() { N = handOff.DispatchCount.ToString(CultureInfo.InvariantCulture) },
                ["expires_at"] = new() { N = expiresAt.ToString(CultureInfo.InvariantCulture) },
            },
            ConditionExpression = NewerOnly,
            ExpressionAttributeValues = new Dictionary<string, AttributeValue>
            {
                [":dispatch_count"] = new() { N = handOff.DispatchCount.ToString(CultureInfo.InvariantCulture) },
            },
        };

        try
        {
            await dynamo.PutItemAsync(request, ct);
            logger.LogInformation("handed off operation {operation_id} of workspace {workspace_id} (dispatch {dispatch_count})",
                handOff.OperationId, handOff.WorkspaceId, handOff.DispatchCount);
        }
        catch (ConditionalCheckFailedException)
        {
            // a newer hand-off is in the table already (or this very put landed and its answer was lost)
            logger.LogInformation("operation {operation_id} already has a newer hand-off than dispatch {dispatch_count}",
                handOff.OperationId, handOff.DispatchCount);
        }
    }
}
