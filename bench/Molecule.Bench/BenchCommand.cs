namespace Molecule.Bench;

/// <summary>A subcommand of the benchmark tool: its name, its option summary, and what it runs (returns the exit code).</summary>
public sealed record BenchCommand(string Name, string Usage, Func<BenchArgs, CancellationToken, Task<int>> RunAsync);

/// <summary>Bad command-line input: printed with the command's usage, exit code 2.</summary>
public sealed class BenchUsageException(string message) : Exception(message);
