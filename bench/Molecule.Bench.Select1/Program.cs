using System.Text.Json.Serialization;
using Npgsql;

// The yardstick of `infra/dev.sh bench api`: the least an ASP.NET Core endpoint can do with one round trip to the same
// Postgres. Same host builder as the app (slim), same Npgsql data source, one `SELECT 1`, a small source-generated JSON
// answer. ConnectionStrings__Postgres and ASPNETCORE_URLS come from the environment.
var builder = WebApplication.CreateSlimBuilder(args);
builder.Services.ConfigureHttpJsonOptions(json => json.SerializerOptions.TypeInfoResolverChain.Insert(0, Select1Json.Default));
var connectionString = builder.Configuration.GetConnectionString("Postgres")
    ?? throw new InvalidOperationException("ConnectionStrings:Postgres is not set");
builder.Services.AddSingleton(_ => NpgsqlDataSource.Create(connectionString));

var app = builder.Build();
app.MapGet("/select1", async (NpgsqlDataSource db, CancellationToken ct) =>
{
    await using var cmd = db.CreateCommand("SELECT 1");
    return TypedResults.Ok(new Select1((int)(await cmd.ExecuteScalarAsync(ct))!));
});
app.MapGet("/healthz", () => TypedResults.Ok(new Select1(1)));
app.Run();

internal sealed record Select1([property: JsonPropertyName("value")] int Value);

[JsonSerializable(typeof(Select1))]
internal sealed partial class Select1Json : JsonSerializerContext;
