using System.Globalization;

namespace Molecule.Bench;

/// <summary>The options after the subcommand: <c>--name value</c> pairs and bare <c>--flag</c>s.</summary>
public sealed class BenchArgs
{
    private readonly Dictionary<string, string?> options = new(StringComparer.Ordinal);

    public static BenchArgs Parse(IReadOnlyList<string> args)
    {
        var parsed = new BenchArgs();
        for (var i = 0; i < args.Count; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || args[i].Length == 2)
            {
                throw new BenchUsageException($"unexpected argument '{args[i]}'");
            }

            var name = args[i][2..];
            var hasValue = i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal);
            parsed.options[name] = hasValue ? args[++i] : null;
        }

        return parsed;
    }

    /// <summary>Refuses options the command does not know, so a typo never silently runs the default.</summary>
    public BenchArgs AllowOnly(params string[] known)
    {
        var unknown = options.Keys.Where(k => !known.Contains(k, StringComparer.Ordinal)).ToList();
        return unknown.Count == 0 ? this : throw new BenchUsageException($"unknown option --{unknown[0]}");
    }

    public int Int(string name, int? defaultValue = null, int min = 0)
    {
        if (!options.TryGetValue(name, out var text))
        {
            return defaultValue ?? throw new BenchUsageException($"--{name} is required");
        }

        // 100000, 100_000 and 100,000 all mean the same
        var digits = text?.Replace("_", "", StringComparison.Ordinal).Replace(",", "", StringComparison.Ordinal);
        return int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min
            ? value
            : throw new BenchUsageException($"--{name} needs a whole number of at least {min} (got '{text}')");
    }

    public bool Flag(string name) => options.ContainsKey(name);
}
