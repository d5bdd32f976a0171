using Molecule.Api.Auth;
using Molecule.Api.Contract;
using Molecule.Api.Endpoints;
using Molecule.Api.Hosting;
using Molecule.Api.Http;
using Molecule.Api.OpenApi;
using Molecule.Workspaces.Providers;
using Molecule.Workspaces.Store;

var builder = WebApplication.CreateSlimBuilder(args);
builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = 1024 * 1024);
var settings = MoleculeSettings.From(builder.Configuration);
builder.Logging.AddMoleculeConsole(settings.Role);
var database = DatabaseSettings.From(builder.Configuration);
var postgres = await PostgresConnection.ResolveAsync(builder.Configuration, database, () => SsmParameterReader.Create(database), CancellationToken.None);
await IdempotencyKeyConfiguration.LoadFromSsmAsync(builder.Configuration, settings.Role, () => SsmParameterReader.Create(database), CancellationToken.None);
builder.Services.AddMolecule(settings, builder.Configuration, builder.Environment, postgres);
builder.Services.AddMoleculeCors(builder.Configuration);
builder.Services.AddMoleculeJson();
builder.Services.AddMoleculeOpenApi();

var app = builder.Build();
if (settings.MigrateOnStart)
{
    await app.Services.GetRequiredService<DatabaseMigrator>().MigrateAsync(app.Lifetime.ApplicationStopping);
}

app.UseMoleculeCors();
app.UseProblemErrors();
if (ServiceRoles.ServesApi(settings.Role))
{
    // worker roles serve no public route: their one caller is the Lambda Web Adapter inside the function, behind IAM
    app.UseMiddleware<BearerAuthMiddleware>();
}

app.UseMiddleware<RequestLogScopeMiddleware>();
// only the API serves the sim routes; asking the providers elsewhere would build them (a sim needs the database,
// which the migrate role may not have yet)
var simRoutes = ServiceRoles.ServesApi(settings.Role) && SimEndpoints.SimProviders(app.Services.GetRequiredService<ProviderRegistry>()).Any();
app.MapMoleculeRoutes(settings, simRoutes);
if (app.Services.GetService<AdminTokens>() is { UsingDevelopmentToken: true })
{
    app.Logger.LogWarning("no admin token configured: accepting the development token '{token}'", AdminTokens.DevelopmentToken);
}

app.Run();

public partial class Program;
