using Molecule.Api.Auth;
using Molecule.Api.Endpoints;
using Molecule.Api.Hosting;
using Molecule.Api.Http;
using Molecule.Workspaces.Providers;
using Molecule.Workspaces.Providers.Sim;
using Molecule.Workspaces.Store;

var builder = WebApplication.CreateSlimBuilder(args);
builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = 1024 * 1024);
builder.Services.AddMolecule(builder.Configuration, builder.Environment);
builder.Services.AddMoleculeCors(builder.Configuration);

var app = builder.Build();
var settings = app.Services.GetRequiredService<MoleculeSettings>();
if (settings.MigrateOnStart)
{
    await app.Services.GetRequiredService<DatabaseMigrator>().MigrateAsync(app.Lifetime.ApplicationStopping);
}

app.UseMoleculeCors();
app.UseProblemErrors();
app.UseMiddleware<BearerAuthMiddleware>();
app.MapMoleculeRoutes(settings, app.Services.GetRequiredService<ProviderRegistry>().All.OfType<SimProvider>().Any());
if (app.Services.GetRequiredService<AdminTokens>().UsingDevelopmentToken)
{
    app.Logger.LogWarning("no admin token configured: accepting the development token '{token}'", AdminTokens.DevelopmentToken);
}

app.Run();

public partial class Program;
