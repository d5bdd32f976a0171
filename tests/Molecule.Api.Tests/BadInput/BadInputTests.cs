using System.Text;
using Molecule.Api.Tests.Infrastructure;

namespace Molecule.Api.Tests.BadInput;

/// <summary>
/// Bad input of every kind gets a 4xx <c>application/problem+json</c> with its stable code and changes nothing in the
/// database (DESIGN §10: "a 500 on bad input is a bug"). Every case is sent with the admin token, so only the input
/// is wrong. The class's workspaces are settled before any case runs, so nothing in the background writes either.
/// </summary>
public sealed class BadInputTests(BadInputTests.SettledWorld world) : IClassFixture<BadInputTests.SettledWorld>
{
    private const string W = "{W}";

    /// <summary>A body that is not text: built from bytes at send time.</summary>
    private const string InvalidUtf8 = "<invalid utf-8>";

    private const string InvalidUtf8Key = "<invalid utf-8 key>";

    private static readonly string Missing = "00000000-0000-4000-8000-000000000001";

    /// <summary>(case, method, path, body, headers as "Name: value" lines, status, error code).</summary>
    public static TheoryData<string, string, string, string?, string?, int, string> Cases() => new()
    {
        // POST /workspaces: the body is not a JSON object
        { "malformed JSON", "POST", "/workspaces", """{"name":""", null, 400, "VALIDATION" },
        { "not JSON at all", "POST", "/workspaces", "name=hello", null, 400, "VALIDATION" },
        { "empty body", "POST", "/workspaces", "", null, 400, "VALIDATION" },
        { "no body", "POST", "/workspaces", null, null, 400, "VALIDATION" },
        { "JSON array", "POST", "/workspaces", """[{"name":"a"}]""", null, 400, "VALIDATION" },
        { "JSON string", "POST", "/workspaces", "\"a\"", null, 400, "VALIDATION" },
        { "JSON null", "POST", "/workspaces", "null", null, 400, "VALIDATION" },
        { "trailing garbage", "POST", "/workspaces", """{"name":"tg"} extra""", null, 400, "VALIDATION" },
        { "trailing comma", "POST", "/workspaces", """{"name":"tc",}""", null, 400, "VALIDATION" },
        { "comment", "POST", "/workspaces", """{"name":"cm" /* hi */}""", null, 400, "VALIDATION" },
        { "single quotes", "POST", "/workspaces", "{'name':'sq'}", null, 400, "VALIDATION" },
        { "nesting 100 deep", "POST", "/workspaces", """{"name":"deep","extra":""" + new string('[', 100) + new string(']', 100) + "}", null, 400, "VALIDATION" },
        { "invalid UTF-8 bytes", "POST", "/workspaces", InvalidUtf8, null, 400, "VALIDATION" },
        { "duplicate name key", "POST", "/workspaces", """{"name":"dup-a","name":"dup-b"}""", null, 400, "VALIDATION" },
        { "lone surrogate in a key", "POST", "/workspaces", """{"\ud800":1,"name":"lone-key"}""", null, 400, "VALIDATION" },
        { "lone surrogate in a nested key", "POST", "/workspaces", """{"name":"lone-nested","secrets":[{"\udfff":1}]}""", null, 400, "VALIDATION" },
        { "duplicate key inside compute", "POST", "/workspaces", """{"name":"dup-c","compute":{"provider":"sim-east","provider":"sim-west"}}""", null, 400, "VALIDATION" },
        { "invalid UTF-8 in a key", "POST", "/workspaces", InvalidUtf8Key, null, 400, "VALIDATION" },

        // POST /workspaces: name
        { "missing name", "POST", "/workspaces", """{"runtime":"agent"}""", null, 400, "VALIDATION" },
        { "null name", "POST", "/workspaces", """{"name":null}""", null, 400, "VALIDATION" },
        { "number name", "POST", "/workspaces", """{"name":42}""", null, 400, "VALIDATION" },
        { "boolean name", "POST", "/workspaces", """{"name":true}""", null, 400, "VALIDATION" },
        { "array name", "POST", "/workspaces", """{"name":["a"]}""", null, 400, "VALIDATION" },
        { "object name", "POST", "/workspaces", """{"name":{"first":"a"}}""", null, 400, "VALIDATION" },
        { "empty name", "POST", "/workspaces", """{"name":""}""", null, 400, "VALIDATION" },
        { "201-character name", "POST", "/workspaces", Named(new string('n', 201)), null, 400, "VALIDATION" },
        { "10 kB name", "POST", "/workspaces", Named(new string('k', 10 * 1024)), null, 400, "VALIDATION" },
        { "NUL in name", "POST", "/workspaces", """{"name":"nul\u0000here"}""", null, 400, "VALIDATION" },
        { "lone high surrogate in name", "POST", "/workspaces", """{"name":"a\ud800b"}""", null, 400, "VALIDATION" },
        { "lone low surrogate in name", "POST", "/workspaces", """{"name":"\udc00"}""", null, 400, "VALIDATION" },
        { "reversed surrogate pair in name", "POST", "/workspaces", """{"name":"\udc00\ud800"}""", null, 400, "VALIDATION" },
        { "taken name", "POST", "/workspaces", """{"name":"bad-input-world"}""", null, 409, "NAME_TAKEN" },

        // POST /workspaces: other fields
        { "parent_id not a UUID", "POST", "/workspaces", """{"name":"p1","parent_id":"not-a-uuid"}""", null, 400, "VALIDATION" },
        { "parent_id a number", "POST", "/workspaces", """{"name":"p2","parent_id":12}""", null, 400, "VALIDATION" },
        { "parent_id without dashes", "POST", "/workspaces", """{"name":"p3","parent_id":"0000000000004000800000000000000a"}""", null, 400, "VALIDATION" },
        { "parent_id SQL text", "POST", "/workspaces", """{"name":"p4","parent_id":"' OR 1=1 --"}""", null, 400, "VALIDATION" },
        { "parent_id that does not exist", "POST", "/workspaces", $$"""{"name":"p5","parent_id":"{{Missing}}"}""", null, 404, "PARENT_NOT_FOUND" },
        { "tier a string", "POST", "/workspaces", """{"name":"t1","tier":"1"}""", null, 400, "VALIDATION" },
        { "tier negative", "POST", "/workspaces", """{"name":"t2","tier":-1}""", null, 400, "VALIDATION" },
        { "tier fractional", "POST", "/workspaces", """{"name":"t3","tier":1.5}""", null, 400, "VALIDATION" },
        { "tier beyond int", "POST", "/workspaces", """{"name":"t4","tier":99999999999999999999}""", null, 400, "VALIDATION" },
        { "x a string", "POST", "/workspaces", """{"name":"x1","x":"left"}""", null, 400, "VALIDATION" },
        { "x overflowing double", "POST", "/workspaces", """{"name":"x2","x":1e400}""", null, 400, "VALIDATION" },
        { "y beyond the canvas", "POST", "/workspaces", """{"name":"y1","y":-1e12}""", null, 400, "VALIDATION" },
        { "canvas not an object", "POST", "/workspaces", """{"name":"c1","canvas":[1,2]}""", null, 400, "VALIDATION" },
        { "canvas.x a string", "POST", "/workspaces", """{"name":"c2","canvas":{"x":"1","y":2}}""", null, 400, "VALIDATION" },
        { "runtime not a slug", "POST", "/workspaces", """{"name":"r1","runtime":"Agent; DROP"}""", null, 400, "VALIDATION" },
        { "runtime a number", "POST", "/workspaces", """{"name":"r2","runtime":7}""", null, 400, "VALIDATION" },
        { "compute a string", "POST", "/workspaces", """{"name":"k1","compute":"sim-east"}""", null, 400, "VALIDATION" },
        { "unknown provider", "POST", "/workspaces", """{"name":"k2","compute":{"provider":"aws-mars-1"}}""", null, 400, "BAD_PROVIDER" },
        { "provider in the wrong case", "POST", "/workspaces", """{"name":"k3","compute":{"provider":"SIM-EAST"}}""", null, 400, "BAD_PROVIDER" },
        { "empty provider", "POST", "/workspaces", """{"name":"k4","compute":{"provider":""}}""", null, 400, "VALIDATION" },
        { "provider a number", "POST", "/workspaces", """{"name":"k5","compute":{"provider":1}}""", null, 400, "VALIDATION" },
        { "instance_type with shell text", "POST", "/workspaces", """{"name":"k6","compute":{"instance_type":"t3.micro; rm -rf /"}}""", null, 400, "VALIDATION" },
        { "data_persistence unknown", "POST", "/workspaces", """{"name":"k7","compute":{"data_persistence":"forever"}}""", null, 400, "VALIDATION" },
        { "root_gb too small", "POST", "/workspaces", """{"name":"k8","compute":{"volume":{"root_gb":1}}}""", null, 400, "VALIDATION" },
        { "root_gb a string", "POST", "/workspaces", """{"name":"k9","compute":{"volume":{"root_gb":"30"}}}""", null, 400, "VALIDATION" },
        { "Idempotency-Key of 256 characters", "POST", "/workspaces", """{"name":"ik"}""", "Idempotency-Key: " + new string('i', 256), 400, "VALIDATION" },
        { "body over 64 kB with a length", "POST", "/workspaces", Named("big", padding: 100 * 1024), null, 413, "PAYLOAD_TOO_LARGE" },
        { "body over 1 MB with a length", "POST", "/workspaces", Named("huge", padding: 2 * 1024 * 1024), null, 413, "PAYLOAD_TOO_LARGE" },

        // ids in paths
        { "workspace id not a UUID", "GET", "/workspaces/not-a-uuid", null, null, 400, "VALIDATION" },
        { "workspace id without dashes", "GET", "/workspaces/0000000000004000800000000000000a", null, null, 400, "VALIDATION" },
        { "workspace id in braces", "GET", "/workspaces/{00000000-0000-4000-8000-00000000000a}", null, null, 400, "VALIDATION" },
        { "workspace id with SQL", "GET", "/workspaces/1%27%20OR%20%271%27%3D%271", null, null, 400, "VALIDATION" },
        { "workspace id an encoded NUL", "GET", "/workspaces/%2500", null, null, 400, "VALIDATION" },
        { "workspace id 10 kB long", "GET", "/workspaces/" + new string('a', 10 * 1024), null, null, 400, "VALIDATION" },
        { "state id not a UUID", "GET", "/workspaces/xyz/state", null, null, 400, "VALIDATION" },
        { "events id not a UUID", "GET", "/workspaces/xyz/events", null, null, 400, "VALIDATION" },
        { "patch id not a UUID", "PATCH", "/workspaces/xyz", """{"x":1}""", null, 400, "VALIDATION" },
        { "operation id not a UUID", "GET", "/operations/op-1", null, null, 400, "VALIDATION" },
        { "workspace that does not exist", "GET", $"/workspaces/{Missing}", null, null, 404, "NOT_FOUND" },
        { "state of a workspace that does not exist", "GET", $"/workspaces/{Missing}/state", null, null, 404, "NOT_FOUND" },
        { "events of a workspace that does not exist", "GET", $"/workspaces/{Missing}/events", null, null, 404, "NOT_FOUND" },
        { "operation that does not exist", "GET", $"/operations/{Missing}", null, null, 404, "NOT_FOUND" },

        // query strings
        { "limit zero", "GET", "/workspaces?limit=0", null, null, 400, "VALIDATION" },
        { "limit negative", "GET", "/workspaces?limit=-5", null, null, 400, "VALIDATION" },
        { "limit over the maximum", "GET", "/workspaces?limit=501", null, null, 400, "VALIDATION" },
        { "limit a word", "GET", "/workspaces?limit=ten", null, null, 400, "VALIDATION" },
        { "limit fractional", "GET", "/workspaces?limit=1.5", null, null, 400, "VALIDATION" },
        { "limit beyond int", "GET", "/workspaces?limit=99999999999999999999", null, null, 400, "VALIDATION" },
        { "limit given twice", "GET", "/workspaces?limit=1&limit=2", null, null, 400, "VALIDATION" },
        { "cursor not base64", "GET", "/workspaces?cursor=%21%21%21", null, null, 400, "VALIDATION" },
        { "cursor base64 of nonsense", "GET", "/workspaces?cursor=aGVsbG8gd29ybGQ", null, null, 400, "VALIDATION" },
        { "cursor with a bad UUID", "GET", "/workspaces?cursor=" + Base64Url("638000000000000000:not-a-uuid"), null, null, 400, "VALIDATION" },
        { "cursor with negative ticks", "GET", "/workspaces?cursor=" + Base64Url($"-5:{Missing}"), null, null, 400, "VALIDATION" },
        { "cursor overlong", "GET", "/workspaces?cursor=" + new string('A', 400), null, null, 400, "VALIDATION" },
        { "status unknown", "GET", "/workspaces?status=sleeping", null, null, 400, "VALIDATION" },
        { "status in upper case", "GET", "/workspaces?status=ONLINE", null, null, 400, "VALIDATION" },
        { "status 10 kB long", "GET", "/workspaces?status=" + new string('s', 10 * 1024), null, null, 400, "VALIDATION" },
        { "parent_id filter not a UUID", "GET", "/workspaces?parent_id=root", null, null, 400, "VALIDATION" },
        { "parent_id filter a NUL", "GET", "/workspaces?parent_id=%00", null, null, 400, "VALIDATION" },
        { "status filter a NUL", "GET", "/workspaces?status=online%00", null, null, 400, "VALIDATION" },
        { "include_removed not a boolean", "GET", "/workspaces/{W}?include_removed=yes", null, null, 400, "VALIDATION" },
        { "events limit zero", "GET", "/workspaces/{W}/events?limit=0", null, null, 400, "VALIDATION" },
        { "events limit a word", "GET", "/workspaces/{W}/events?limit=all", null, null, 400, "VALIDATION" },

        // PATCH /workspaces/{id}
        { "patch malformed JSON", "PATCH", "/workspaces/{W}", """{"x":""", null, 400, "VALIDATION" },
        { "patch empty body", "PATCH", "/workspaces/{W}", "", null, 400, "VALIDATION" },
        { "patch JSON array", "PATCH", "/workspaces/{W}", "[]", null, 400, "VALIDATION" },
        { "patch empty name", "PATCH", "/workspaces/{W}", """{"name":""}""", null, 400, "VALIDATION" },
        { "patch 10 kB name", "PATCH", "/workspaces/{W}", Named(new string('k', 10 * 1024)), null, 400, "VALIDATION" },
        { "patch NUL in name", "PATCH", "/workspaces/{W}", """{"name":"\u0000"}""", null, 400, "VALIDATION" },
        { "patch lone surrogate in name", "PATCH", "/workspaces/{W}", """{"name":"\ud800"}""", null, 400, "VALIDATION" },
        { "patch name a number", "PATCH", "/workspaces/{W}", """{"name":3}""", null, 400, "VALIDATION" },
        { "patch x a string", "PATCH", "/workspaces/{W}", """{"x":"12"}""", null, 400, "VALIDATION" },
        { "patch y a boolean", "PATCH", "/workspaces/{W}", """{"y":true}""", null, 400, "VALIDATION" },
        { "patch collapsed a string", "PATCH", "/workspaces/{W}", """{"collapsed":"yes"}""", null, 400, "VALIDATION" },
        { "patch collapsed a number", "PATCH", "/workspaces/{W}", """{"collapsed":1}""", null, 400, "VALIDATION" },
        { "patch compute", "PATCH", "/workspaces/{W}", """{"compute":{"instance_type":"t3.large"}}""", null, 400, "VALIDATION" },
        { "patch over 64 kB", "PATCH", "/workspaces/{W}", Named("big", padding: 100 * 1024), null, 413, "PAYLOAD_TOO_LARGE" },
        { "patch If-Match not a version", "PATCH", "/workspaces/{W}", """{"x":1}""", "If-Match: \"abc\"", 400, "VALIDATION" },
        { "patch If-Match zero", "PATCH", "/workspaces/{W}", """{"x":1}""", "If-Match: \"0\"", 400, "VALIDATION" },
        { "patch If-Match beyond int", "PATCH", "/workspaces/{W}", """{"x":1}""", "If-Match: \"99999999999\"", 400, "VALIDATION" },
        { "patch If-Match stale", "PATCH", "/workspaces/{W}", """{"x":1}""", "If-Match: \"9999\"", 412, "VERSION_MISMATCH" },
        { "patch to a taken name", "PATCH", "/workspaces/{W}", """{"name":"bad-input-sibling"}""", null, 409, "NAME_TAKEN" },
        { "patch a workspace that does not exist", "PATCH", $"/workspaces/{Missing}", """{"x":1}""", null, 404, "NOT_FOUND" },

        // methods no route takes
        { "DELETE on the provider list", "DELETE", "/providers", null, null, 405, "METHOD_NOT_ALLOWED" },
        { "PUT on the workspace list", "PUT", "/workspaces", """{"name":"put"}""", null, 405, "METHOD_NOT_ALLOWED" },

        // the simulated cloud's admin routes
        { "sim faults rate above one", "PUT", "/sim/faults", """{"failure_rate":2}""", null, 400, "VALIDATION" },
        { "sim faults unknown call", "PUT", "/sim/faults", """{"call":"explode"}""", null, 400, "VALIDATION" },
        { "sim faults unknown provider", "PUT", "/sim/faults", """{"provider":"nope"}""", null, 400, "BAD_PROVIDER" },
        { "sim faults malformed JSON", "PUT", "/sim/faults", "{", null, 400, "VALIDATION" },
        { "sim kill on an unknown provider", "POST", "/sim/instances/nope/i-1/kill", null, null, 400, "BAD_PROVIDER" },
        { "sim list of an unknown provider", "GET", "/sim/instances?provider=nope", null, null, 400, "BAD_PROVIDER" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Bad_input_gets_a_problem_with_its_code_and_changes_nothing(
        string name, string method, string path, string? body, string? headers, int status, string error)
    {
        var client = world.Factory.AdminClient();
        var before = await world.Factory.Database.FingerprintAsync();

        using var response = await client.SendBytesAsync(new HttpMethod(method), path.Replace(W, world.WorkspaceId), BodyBytes(body), Headers(headers));

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == (int)response.StatusCode, $"{name}: expected {status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal(error, (string?)(await response.ProblemAsync())["error"]);
        Assert.Equal(before, await world.Factory.Database.FingerprintAsync());
    }

    [Fact]
    public void The_table_has_at_least_forty_cases()
    {
        var count = Cases().Count();

        Assert.True(count >= 40, $"only {count} bad inputs");
    }

    [Fact]
    public async Task A_chunked_body_over_64_kB_without_a_length_gets_413_and_changes_nothing()
    {
        var client = world.Factory.AdminClient();
        var before = await world.Factory.Database.FingerprintAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/workspaces")
        {
            Content = new StreamContent(new UnseekableStream(Encoding.UTF8.GetBytes(Named("chunked", padding: 200 * 1024)))),
        };

        using var response = await client.SendAsync(request);

        Assert.Null(request.Content.Headers.ContentLength);
        Assert.Equal(413, (int)response.StatusCode);
        Assert.Equal("PAYLOAD_TOO_LARGE", (string?)(await response.ProblemAsync())["error"]);
        Assert.Equal(before, await world.Factory.Database.FingerprintAsync());
    }

    [Fact]
    public async Task Patch_with_compute_names_the_field()
    {
        var client = world.Factory.AdminClient();

        using var response = await client.SendJsonAsync(HttpMethod.Patch, $"/workspaces/{world.WorkspaceId}", """{"compute":{"instance_type":"t3.large"}}""");

        Assert.Contains("compute", (string?)(await response.ProblemAsync())["detail"]);
    }

    [Fact]
    public async Task A_wrong_type_names_the_field_in_the_detail()
    {
        var client = world.Factory.AdminClient();

        using var response = await client.SendJsonAsync(HttpMethod.Post, "/workspaces", """{"name":"detail","compute":{"volume":{"root_gb":"x"}}}""");

        Assert.Equal("compute.volume.root_gb must be an integer from 8 to 16384", (string?)(await response.ProblemAsync())["detail"]);
    }

    [Fact]
    public async Task A_problem_never_leaks_internals()
    {
        var client = world.Factory.AdminClient();

        using var response = await client.SendJsonAsync(HttpMethod.Post, "/workspaces", """{"name":"a","name":"b"}""");

        var text = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain("Exception", text);
        Assert.DoesNotContain(" at ", text);
    }

    private static string Named(string name, int padding = 0) =>
        new System.Text.Json.Nodes.JsonObject { ["name"] = name, ["padding"] = padding > 0 ? new string('p', padding) : null }.ToJsonString();

    private static string Base64Url(string text) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(text)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static byte[]? BodyBytes(string? body) => body switch
    {
        null => null,
        // "name" with a lone continuation byte and an overlong encoding inside the string
        InvalidUtf8 => [.. "{\"name\":\"bad"u8, 0x80, 0xC0, 0xAF, .. "\"}"u8],
        InvalidUtf8Key => [.. "{\"name\":\"bad-key\",\""u8, 0xFF, 0xFE, .. "\":1}"u8],
        _ => Encoding.UTF8.GetBytes(body),
    };

    private static Dictionary<string, string>? Headers(string? lines) => lines?.Split('\n')
        .Select(line => line.Split(": ", 2))
        .ToDictionary(pair => pair[0], pair => pair[1]);

    /// <summary>Hides its length, so the client sends the body chunked with no Content-Length.</summary>
    private sealed class UnseekableStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
    }

    /// <summary>One settled workspace (and a sibling whose name a PATCH may collide with), then nothing moves.</summary>
    public sealed class SettledWorld : IAsyncLifetime
    {
        private readonly ApiFixture api = new();

        public ApiFactory Factory => api.Factory;

        public string WorkspaceId { get; private set; } = "";

        public async Task InitializeAsync()
        {
            await api.InitializeAsync();
            var admin = Factory.AdminClient();
            var created = await admin.CreateSettledWorkspaceAsync(new { name = "bad-input-world" });
            await admin.CreateSettledWorkspaceAsync(new { name = "bad-input-sibling", runtime = "external" });
            WorkspaceId = (string)created["id"]!;
        }

        public Task DisposeAsync() => api.DisposeAsync();
    }
}
