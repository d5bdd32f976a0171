using Molecule.Bench;

// Benchmarks that print figures (not timed tests). One line per command; `infra/dev.sh bench <command> [options]`.
BenchCommand[] commands =
[
    OrphanSweepBench.Command,
    ReconcileBench.Command,
    SwitchBench.Command,
    ApiBench.Command,
];

if (args.Length == 0 || commands.FirstOrDefault(c => c.Name == args[0]) is not { } command)
{
    Console.Error.WriteLine("usage: Molecule.Bench <command> [options]");
    foreach (var c in commands)
    {
        Console.Error.WriteLine($"  {c.Name,-14} {c.Usage}");
    }

    return 2;
}

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    // let the command drop its scratch database on the way out
    e.Cancel = true;
    cancel.Cancel();
};

try
{
    return await command.RunAsync(BenchArgs.Parse(args[1..]), cancel.Token);
}
catch (BenchUsageException ex)
{
    Console.Error.WriteLine($"{command.Name}: {ex.Message}");
    Console.Error.WriteLine($"usage: Molecule.Bench {command.Name} {command.Usage}");
    return 2;
}
