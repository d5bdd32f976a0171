using Microsoft.Extensions.Logging;

namespace Molecule.Api.Tests.Infrastructure;

/// <summary>
/// Records every log entry with the fields of the logging scopes it was written in (what a JSON log formatter with
/// scopes turns into fields), so a test can check that a log line carries <c>operation_id</c> and friends.
/// </summary>
public sealed class ScopeCapturingLoggerProvider : ILoggerProvider, ISupportExternalScope
{
    private readonly Lock gate = new();
    private readonly List<CapturedLog> entries = [];
    private IExternalScopeProvider scopes = new LoggerExternalScopeProvider();

    public IReadOnlyList<CapturedLog> Entries
    {
        get
        {
            lock (gate)
            {
                return entries.ToList();
            }
        }
    }

    public ILogger CreateLogger(string categoryName) => new CapturingLogger(this, categoryName);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => scopes = scopeProvider;

    public void Dispose()
    {
    }

    private sealed class CapturingLogger(ScopeCapturingLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => owner.scopes.Push(state);

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var fields = new Dictionary<string, object?>(StringComparer.Ordinal);
            owner.scopes.ForEachScope((scope, acc) =>
            {
                if (scope is IEnumerable<KeyValuePair<string, object?>> pairs)
                {
                    foreach (var (key, value) in pairs)
                    {
                        acc[key] = value;
                    }
                }
            }, fields);
            lock (owner.gate)
            {
                owner.entries.Add(new CapturedLog(category, logLevel, formatter(state, exception), fields));
            }
        }
    }
}

public sealed record CapturedLog(string Category, LogLevel Level, string Message, IReadOnlyDictionary<string, object?> ScopeFields);
