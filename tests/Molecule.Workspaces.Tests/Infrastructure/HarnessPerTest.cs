namespace Molecule.Workspaces.Tests.Infrastructure;

/// <summary>
/// A fresh database and an <see cref="OperationHarness"/> on it for every test (xUnit makes a new instance per test),
/// for classes whose checks need a quiet database: counts over the whole cloud, scans that adopt whatever is free.
/// </summary>
public abstract class HarnessPerTest : IAsyncLifetime
{
    protected readonly TestDatabase database = new();
    protected OperationHarness harness = null!;

    public virtual async Task InitializeAsync()
    {
        await database.InitializeAsync();
        harness = new OperationHarness(database);
    }

    public Task DisposeAsync() => database.DisposeAsync();
}
