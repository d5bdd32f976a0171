using System.Globalization;
using System.Security.Cryptography;
using Npgsql;

namespace Molecule.Bench;

/// <summary>
/// <c>api [--seconds 10] [--warmup-seconds 3] [--rows 1000] [--rounds 1] [--aot] [--keep-database]</c>: the read the
/// canvas makes most, <c>GET /workspaces/{id}</c>, served by the published app in role <c>api</c> (production-like:
/// hashed admin token, idempotency key, DynamoDB dispatch to a closed loopback port — reads never dispatch), against
/// a minimal ASP.NET Core endpoint doing one <c>SELECT 1</c> through Npgsql on the same Postgres
/// (<c>bench/Molecule.Bench.Select1</c>). Both are driven in turn by wrk, 16 connections then 1, each run after a
/// warm-up; one line per connection count and round:
/// <c>RESULT connections=C select1_rps=… api_rps=… rps_ratio=… select1_p50_us=… api_p50_us=… p50_ratio=… select1_p99_us=… api_p99_us=… load=…</c>
/// (rps_ratio: api over select1, goal ≥ 0.6; p50_ratio: api over select1, goal ≤ 2 at one connection).
/// </summary>
public static class ApiBench
{
    private static readonly int[] Connections = [16, 1];

    public static BenchCommand Command { get; } = new("api",
        "[--seconds 10] [--warmup-seconds 3] [--rows 1000] [--rounds 1] [--aot] [--keep-database]", RunAsync);

    private static async Task<int> RunAsync(BenchArgs args, CancellationToken ct)
    {
        args.AllowOnly("seconds", "warmup-seconds", "rows", "rounds", "aot", "keep-database");
        var duration = TimeSpan.FromSeconds(args.Int("seconds", 10, min: 1));
        var warmup = TimeSpan.FromSeconds(args.Int("warmup-seconds", 3, min: 1));
        var rows = args.Int("rows", 1000, min: 1);
        var rounds = args.Int("rounds", 1, min: 1);
        var aot = args.Flag("aot");
        var build = aot ? "Native AOT" : "JIT";

        Console.WriteLine($"api: publishing the app and the SELECT 1 endpoint ({build}) …");
        var apiExecutable = await PublishedApp.PublishAsync("src/Molecule.Api/Molecule.Api.csproj", "Molecule.Api", aot, ct);
        var select1Executable = await PublishedApp.PublishAsync("bench/Molecule.Bench.Select1/Molecule.Bench.Select1.csproj", "Molecule.Bench.Select1", aot, ct);

        await using var database = await ScratchDatabase.CreateAsync("molecule_bench", args.Flag("keep-database"), ct);
        var workspaceId = await SeedAsync(database.DataSource, rows, ct);

        var token = Convert.ToBase64String(RandomNumberGenerator.GetBytes(24));
        await using var select1 = await PublishedApp.StartAsync("select1", select1Executable, new Dictionary<string, string>
        {
            ["ConnectionStrings__Postgres"] = database.ConnectionString,
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["Logging__LogLevel__Default"] = "Warning",
        }, ct);
        await using var api = await PublishedApp.StartAsync("api", apiExecutable, ApiEnvironment(database.ConnectionString, token), ct);

        var workspaceUrl = $"{api.BaseUrl}/workspaces/{workspaceId}";
        var select1Url = $"{select1.BaseUrl}/select1";
        var auth = new Dictionary<string, string> { ["Authorization"] = $"Bearer {token}" };
        await CheckAnswersAsync(workspaceUrl, token, ct);

        Console.WriteLine($"api: GET /workspaces/{{id}} (role api, {build}) against GET /select1 (one SELECT 1), one Postgres ({rows:N0} workspaces, " +
            $"2 operations each; database {database.Name}); wrk {duration.TotalSeconds:F0} s per run after {warmup.TotalSeconds:F0} s of warm-up; " +
            $"{Environment.ProcessorCount} cores");
        await Wrk.RunAsync(select1Url, 16, warmup, new Dictionary<string, string>(), ct);
        await Wrk.RunAsync(workspaceUrl, 16, warmup, auth, ct);

        var failed = false;
        for (var round = 1; round <= rounds; round++)
        {
            foreach (var connections in Connections)
            {
                var load = LoadAverage();
                var baseline = await Wrk.RunAsync(select1Url, connections, duration, new Dictionary<string, string>(), ct);
                var measured = await Wrk.RunAsync(workspaceUrl, connections, duration, auth, ct);
                Console.WriteLine($"  round {round}, {connections,2} connection(s): select1 {Describe(baseline)}; api {Describe(measured)}");
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"RESULT connections={connections} select1_rps={baseline.RequestsPerSecond:F0} api_rps={measured.RequestsPerSecond:F0} " +
                    $"rps_ratio={measured.RequestsPerSecond / baseline.RequestsPerSecond:F2} " +
                    $"select1_p50_us={Micros(baseline.P50)} api_p50_us={Micros(measured.P50)} p50_ratio={measured.P50 / baseline.P50:F2} " +
                    $"select1_p99_us={Micros(baseline.P99)} api_p99_us={Micros(measured.P99)} load={load}"));
                if (baseline.Errors + measured.Errors > 0)
                {
                    Console.Error.WriteLine($"  errors: select1 {baseline.Errors}, api {measured.Errors} (non-2xx answers or socket errors); see {api.Log}");
                    failed = true;
                }
            }
        }

        return failed ? 1 : 0;
    }

    /// <summary>
    /// Role <c>api</c> as the template deploys it, made production-like: no Development shortcuts, so the admin token is
    /// only a configured hash and the idempotency key must be set. The DynamoDB endpoint is a closed loopback port: a read
    /// never hands anything off.
    /// </summary>
    private static Dictionary<string, string> ApiEnvironment(string connectionString, string token) => new()
    {
        ["ConnectionStrings__Postgres"] = connectionString,
        ["ASPNETCORE_ENVIRONMENT"] = "Production",
        ["Logging__LogLevel__Default"] = "Warning",
        ["Molecule__Role"] = "api",
        ["Molecule__MigrateOnStart"] = "false",
        ["Molecule__DeploymentId"] = "bench",
        ["Molecule__Providers__sim-east__Type"] = "sim",
        ["Molecule__Auth__AdminTokenSha256__0"] = Convert.ToHexString(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(token))),
        ["Molecule__Idempotency__EncryptionKey"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
        ["Molecule__Dispatch__Mode"] = "dynamodb",
        ["Molecule__Dispatch__TableName"] = "bench-dispatch",
        ["Molecule__Dispatch__ServiceUrl"] = "http://127.0.0.1:9",
        ["AWS_REGION"] = "us-east-1",
        ["AWS_ACCESS_KEY_ID"] = "bench",
        ["AWS_SECRET_ACCESS_KEY"] = "bench",
    };

    /// <summary>N online workspaces, each with an older create and a newer restart operation; returns the middle one's id.</summary>
    private static async Task<Guid> SeedAsync(NpgsqlDataSource db, int rows, CancellationToken ct)
    {
        const string sql = """
            WITH w AS (
                INSERT INTO workspaces (id, name, status, runtime, compute, instance_id, instance_provider, url, created_at, updated_at)
                SELECT gen_random_uuid(), 'bench-' || g, 'online', 'agent',
                       jsonb_build_object('provider', 'sim-east', 'data_persistence', 'ephemeral'),
                       'i-' || substr(md5('bench-' || g), 1, 17), 'sim-east', 'http://10.0.0.1:8000',
                       now() - interval '1 hour', now() - interval '1 hour'
                  FROM generate_series(1, $1) AS g
                RETURNING id, created_at
            ),
            created AS (
                INSERT INTO operations (id, workspace_id, kind, state, step, created_at, updated_at, started_at, finished_at)
                SELECT gen_random_uuid(), id, 'create', 'succeeded', 'commit', created_at, created_at, created_at, created_at FROM w
            )
            INSERT INTO operations (id, workspace_id, kind, state, step, created_at, updated_at, started_at, finished_at)
            SELECT gen_random_uuid(), id, 'restart', 'succeeded', 'commit', created_at + interval '1 minute', created_at + interval '1 minute',
                   created_at + interval '1 minute', created_at + interval '2 minutes'
              FROM w
            """;
        await using (var seed = db.CreateCommand(sql))
        {
            seed.Parameters.Add(new NpgsqlParameter { Value = rows });
            await seed.ExecuteNonQueryAsync(ct);
        }

        await using (var analyze = db.CreateCommand("ANALYZE workspaces; ANALYZE operations"))
        {
            await analyze.ExecuteNonQueryAsync(ct);
        }

        await using var pick = db.CreateCommand("SELECT id FROM workspaces ORDER BY id OFFSET $1 LIMIT 1");
        pick.Parameters.Add(new NpgsqlParameter { Value = rows / 2 });
        return (Guid)(await pick.ExecuteScalarAsync(ct))!;
    }

    /// <summary>One request first: a bench of 401s or 404s would measure nothing.</summary>
    private static async Task CheckAnswersAsync(string url, string token, CancellationToken ct)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        using var response = await http.SendAsync(request, ct);
        var body = await response.Content.ReadAsStringAsync(ct);
        if (!response.IsSuccessStatusCode || !body.Contains("\"restart\"", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"GET {url} answered {(int)response.StatusCode}: {body}");
        }
    }

    private static string Describe(WrkResult r) => string.Create(CultureInfo.InvariantCulture,
        $"{r.RequestsPerSecond:F0} req/s, p50 {Micros(r.P50)} µs, p99 {Micros(r.P99)} µs");

    private static string Micros(TimeSpan span) => span.TotalMicroseconds.ToString("F0", CultureInfo.InvariantCulture);

    /// <summary>The 1-minute load average when the run started: the machine is shared, so every figure says how busy it was.</summary>
    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "?";
}
