using System.Text.Json;
using Molecule.Workspaces.Domain;
using Npgsql;
using NpgsqlTypes;

namespace Molecule.Workspaces.Store;

/// <summary>Parameter constructors, so every statement stays positional (<c>$1</c>) and parameterised.</summary>
internal static class Sql
{
    public static NpgsqlParameter P(object? value) => new() { Value = value ?? DBNull.Value };

    public static NpgsqlParameter Uuid(Guid? value) => new() { Value = (object?)value ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid };

    public static NpgsqlParameter Text(string? value) => new() { Value = (object?)value ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text };

    public static NpgsqlParameter Int(int? value) => new() { Value = (object?)value ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Integer };

    public static NpgsqlParameter Float8(double? value) => new() { Value = (object?)value ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Double };

    public static NpgsqlParameter Bool(bool? value) => new() { Value = (object?)value ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Boolean };

    public static NpgsqlParameter Time(DateTimeOffset? value) =>
        new() { Value = (object?)value?.ToUniversalTime() ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz };

    public static NpgsqlParameter Jsonb(string json) => new() { Value = json, NpgsqlDbType = NpgsqlDbType.Jsonb };

    public static NpgsqlParameter Json(Compute compute) => Jsonb(JsonSerializer.Serialize(compute, DomainJson.Default.Compute));

    public static NpgsqlParameter Json(OperationInput input) => Jsonb(JsonSerializer.Serialize(input, DomainJson.Default.OperationInput));

    public static NpgsqlParameter Json(OperationProgress progress) => Jsonb(JsonSerializer.Serialize(progress, DomainJson.Default.OperationProgress));

    public static NpgsqlParameter TextArray(IEnumerable<string> values) =>
        new() { Value = values.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text };

    public static NpgsqlParameter UuidArray(IEnumerable<Guid> values) =>
        new() { Value = values.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Uuid };

    public static NpgsqlCommand Command(NpgsqlConnection conn, NpgsqlTransaction? tx, string sql, params NpgsqlParameter[] parameters)
    {
        var cmd = new NpgsqlCommand(sql, conn, tx);
        cmd.Parameters.AddRange(parameters);
        return cmd;
    }
}

internal static class ParameterCollectionExtensions
{
    public static void AddAll(this NpgsqlParameterCollection collection, params NpgsqlParameter[] parameters) =>
        collection.AddRange(parameters);
}
