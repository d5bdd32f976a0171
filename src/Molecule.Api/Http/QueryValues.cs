using System.Diagnostics.CodeAnalysis;

namespace Molecule.Api.Http;

/// <summary>
/// The query values the routes take, parsed once here: a bad value is 400 <c>VALIDATION</c> naming it, and changes
/// nothing. Each route binds its values as plain strings (so binding itself never fails or answers for us) and reads
/// them through these. <see cref="Schemas"/> says the same to the OpenAPI document.
/// </summary>
public static class QueryValues
{
    /// <summary>A page when <c>limit</c> is not given.</summary>
    public const int DefaultLimit = 100;

    /// <summary>The largest page any listing serves.</summary>
    public const int MaxLimit = 500;

    /// <summary><c>limit</c>: an integer from 1 to <see cref="MaxLimit"/>; <see cref="DefaultLimit"/> when absent or empty.</summary>
    public static bool TryLimit(string? raw, out int limit, [NotNullWhen(false)] out ProblemResult? problem)
    {
        problem = null;
        if (string.IsNullOrEmpty(raw))
        {
            limit = DefaultLimit;
            return true;
        }

        if (int.TryParse(raw, out limit) && limit is >= 1 and <= MaxLimit)
        {
            return true;
        }

        problem = Problems.Validation($"limit must be an integer from 1 to {MaxLimit}");
        return false;
    }

    /// <summary>A boolean flag (<c>confirm</c>, <c>cascade</c>, <c>include_removed</c>): exactly <c>true</c> or <c>false</c>; false when absent or empty.</summary>
    public static bool TryFlag(string name, string? raw, out bool value, [NotNullWhen(false)] out ProblemResult? problem)
    {
        problem = null;
        value = raw == "true";
        if (string.IsNullOrEmpty(raw) || raw is "true" or "false")
        {
            return true;
        }

        problem = Problems.Validation($"{name} must be true or false");
        return false;
    }

    /// <summary>A UUID in its 36-character form; null when absent or empty.</summary>
    public static bool TryUuid(string name, string? raw, out Guid? value, [NotNullWhen(false)] out ProblemResult? problem)
    {
        problem = null;
        value = null;
        if (string.IsNullOrEmpty(raw))
        {
            return true;
        }

        if (Guid.TryParseExact(raw, "D", out var id))
        {
            value = id;
            return true;
        }

        problem = Problems.Validation($"{name} must be a UUID");
        return false;
    }

    /// <summary>What each query value is, for the OpenAPI document (the routes bind them as strings).</summary>
    public static IReadOnlyDictionary<string, QuerySchema> Schemas { get; } = new Dictionary<string, QuerySchema>(StringComparer.Ordinal)
    {
        ["limit"] = new(QueryType.Integer, $"Page size, 1–{MaxLimit} (default {DefaultLimit}).", Minimum: 1, Maximum: MaxLimit),
        ["cursor"] = new(QueryType.String, "The opaque cursor of the next page, as the previous page's Link header gives it."),
        ["status"] = new(QueryType.String, "Only workspaces of this status (not removed)."),
        ["parent_id"] = new(QueryType.Uuid, "Only the children of this workspace."),
        ["include_removed"] = new(QueryType.Boolean, "Read a removed workspace too (else 410)."),
        ["confirm"] = new(QueryType.Boolean, "Delete the live descendants too (else 409 CONFIRMATION_REQUIRED when there are any)."),
        ["cascade"] = new(QueryType.Boolean, "Act on the live descendants too (else 409 DESCENDANTS when there are any)."),
        ["state"] = new(QueryType.String, "The listing: only 'stuck' (active for over 15 minutes, expired, or without their claim).", Enum: ["stuck"]),
        ["provider"] = new(QueryType.String, "Only this simulated provider."),
    };
}

public enum QueryType
{
    String,
    Integer,
    Boolean,
    Uuid,
}

/// <summary>The documented shape of one query value.</summary>
public sealed record QuerySchema(QueryType Type, string Description, int? Minimum = null, int? Maximum = null, string[]? Enum = null);
