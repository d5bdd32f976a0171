"""The Lambda contract of each function, run offline against the built artifact: the binary started the way the Lambda
Web Adapter's /opt/bootstrap starts it ($LAMBDA_TASK_ROOT/$_HANDLER), with that function's environment from
template.yaml, must answer the adapter's readiness check and, for a worker, a POST of a fixture event on its
pass-through path with a status the adapter reports as success. Then a cold-start figure: process start -> first
database-backed 200, AOT binary against the JIT build (printed, never asserted).

    python lambda_contract.py --artifacts DIR --jit DIR --database NPGSQL_CONNECTION_STRING [--cold-runs N]
                              [--override FUNCTION:KEY=VALUE ...]   (a debugging aid: change one variable of a function)

DIR/<LogicalId>/ holds what `make build-<LogicalId> ARTIFACTS_DIR=...` put there. Everything stays on loopback: SSM
is a local fake that hands out --database, CloudFormation's response URL is a local listener, and the EC2 and
DynamoDB endpoints point at a closed local port (so no call can leave the machine; the roles must still start).
"""

import argparse
import base64
import hashlib
import http.client
import http.server
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import template_model as tm

ADMIN_TOKEN = "offline-check-admin-token"
# put into the connection string SSM hands out (the test server trusts loopback and ignores it): no log line may show it
DATABASE_PASSWORD = "offline-check-db-password-7f3a"
SSM_PARAMETER = "/molecule/offline-check/postgres"
IDEMPOTENCY_KEY_PARAMETER = "/molecule/offline-check/idempotency-key"
IDEMPOTENCY_KEY = base64.b64encode(hashlib.sha256(b"offline-check-idempotency-key").digest()).decode()
FIXTURES = Path(__file__).resolve().parent / "fixtures"
FIXTURE_PARAMETERS = {
    "DeploymentId": "offline-check",
    "SubnetIds": ["subnet-0offline00000000001"],
    "SecurityGroupIds": ["sg-0offline00000000001"],
    "DatabaseConnectionParameter": SSM_PARAMETER,
    "IdempotencyKeyParameter": IDEMPOTENCY_KEY_PARAMETER,
    "AdminTokenSha256": hashlib.sha256(ADMIN_TOKEN.encode()).hexdigest(),
    "CorsAllowedOrigins": ["https://canvas.example.com"],
    "Ec2ImageId": "ami-0offline00000000001",
    "Ec2SubnetId": "subnet-0offline00000000001",
    "Ec2SecurityGroupIds": ["sg-0offline00000000001", "sg-0offline00000000002"],
}
OUTCOMES = {"ok", "retry", "pending", "exhausted", "failed", "abort"}
ORDER = ["MigrateFunction", "ApiFunction", "OperationStepsFunction", "OrphanSweeperFunction", "InstanceReconcilerFunction"]
# the adapter's layer/bootstrap, verbatim: exec -- "${LAMBDA_TASK_ROOT}/${_HANDLER}"
ADAPTER_BOOTSTRAP = ["/bin/bash", "-c", 'exec -- "${LAMBDA_TASK_ROOT}/${_HANDLER}"']

failures: list[str] = []


def report(ok: bool, what: str, detail: str = "") -> bool:
    print(f"  {'ok  ' if ok else 'FAIL'} {what}" + ("" if ok or not detail else f"  -- {detail}"), flush=True)
    if not ok:
        failures.append(what)
    return ok


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------------------------------------------ loopback stand-ins
class FakeSsm(http.server.BaseHTTPRequestHandler):
    """SSM's GetParameter (JSON 1.1): the template's two parameters, decrypted; ParameterNotFound otherwise."""

    value = ""
    requests: list[dict] = []

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        FakeSsm.requests.append({"target": self.headers.get("X-Amz-Target"), **body})
        values = {SSM_PARAMETER: FakeSsm.value, IDEMPOTENCY_KEY_PARAMETER: IDEMPOTENCY_KEY}
        if self.headers.get("X-Amz-Target") == "AmazonSSM.GetParameter" and body.get("Name") in values:
            self.answer(200, {"Parameter": {"Name": body["Name"], "Type": "SecureString", "Value": values[body["Name"]], "Version": 1}})
        else:
            self.answer(400, {"__type": "ParameterNotFound", "message": ""})

    def answer(self, status: int, document: dict) -> None:
        data = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


class CloudFormationListener(http.server.BaseHTTPRequestHandler):
    """The pre-signed S3 URL of a custom resource's answer: records each PUT."""

    puts: list[dict] = []

    def do_PUT(self):  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        CloudFormationListener.puts.append({"path": self.path, "content_type": self.headers.get("Content-Type"), "document": json.loads(body)})
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def serve(handler) -> str:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}"


# ------------------------------------------------------------------------------------------------ one function's process
class Function:
    def __init__(self, name: str, command: list[str], cwd: Path, env: dict[str, str], port: int):
        self.name, self.port, self.lines = name, port, []
        self.started = time.perf_counter()
        self.process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self):
        for raw in self.process.stdout:
            self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None, timeout: float = 30):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    def wait_ready(self, path: str, deadline_s: float = 30, headers: dict | None = None, every_s: float = 0.01,
                   request_timeout_s: float = 2) -> float | None:
        """Polls like the adapter (every 10 ms, unless `every_s` says otherwise) until a GET of `path` answers 2xx;
        seconds from start, or None when the process exits or `deadline_s` passes first."""
        end = time.perf_counter() + deadline_s
        while time.perf_counter() < end:
            if self.process.poll() is not None:
                return None
            try:
                status, _ = self.request("GET", path, headers=headers, timeout=request_timeout_s)
                if 200 <= status < 300:
                    return time.perf_counter() - self.started
            except OSError:
                pass
            time.sleep(every_s)
        return None

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def tail(self, n: int = 25) -> str:
        return "\n".join("      | " + line for line in self.lines[-n:])


def lambda_environment(template: dict, resolver: tm.Resolver, name: str, port: int, ssm_url: str, closed_url: str,
                       artifact: Path, overrides: dict[str, str]) -> dict[str, str]:
    """The function's variables from template.yaml, plus what Lambda itself sets, plus the offline redirections."""
    resolved = {key: resolver.resolve(value) for key, value in tm.environment(template, name).items()}
    env = {key: str(value) for key, value in resolved.items() if value is not tm.NO_VALUE}
    template_port = env["ASPNETCORE_URLS"].rsplit(":", 1)[1]
    # the template's 8080 may be taken on a shared machine: the app and the adapter move together to a free port
    env["ASPNETCORE_URLS"] = env["ASPNETCORE_URLS"].replace(f":{template_port}", f":{port}")
    env["AWS_LWA_PORT"] = str(port)
    env.update({
        # what the Lambda service sets in every execution environment
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LAMBDA_TASK_ROOT": str(artifact),
        "_HANDLER": str(tm.effective_properties(template, name)["Handler"]),
        "AWS_REGION": tm.OFFLINE_REGION,
        "AWS_DEFAULT_REGION": tm.OFFLINE_REGION,
        "AWS_ACCESS_KEY_ID": "ASIAOFFLINECHECK0000",
        "AWS_SECRET_ACCESS_KEY": "offline-check-secret",
        "AWS_SESSION_TOKEN": "offline-check-session",
        "AWS_LAMBDA_FUNCTION_NAME": f"molecule-offline-{name}",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/molecule-offline-{name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "2026/01/01/[$LATEST]offline",
        # offline only: every AWS call stays on this machine
        "AWS_EC2_METADATA_DISABLED": "true",
        "Molecule__Database__SsmServiceUrl": ssm_url,
        "Molecule__Providers__ec2__ServiceUrl": closed_url,
        "Molecule__Dispatch__ServiceUrl": closed_url,
    })
    env.update(overrides)
    return env


def adapter_headers(name: str, timeout_s: int) -> dict[str, str]:
    """What the adapter adds to a pass-through POST (lambda_http's PassThrough request, plus the Lambda context)."""
    context = {
        "request_id": str(uuid.uuid4()),
        "deadline": int((time.time() + timeout_s) * 1000),
        "invoked_function_arn": f"arn:aws:lambda:{tm.OFFLINE_REGION}:{tm.OFFLINE_ACCOUNT}:function:molecule-offline-{name}",
        "xray_trace_id": "Root=1-00000000-000000000000000000000000;Parent=0000000000000000;Sampled=0",
        "client_context": None,
        "identity": None,
        "env_config": {"function_name": f"molecule-offline-{name}", "memory": 512, "version": "$LATEST",
                       "log_stream": "2026/01/01/[$LATEST]offline", "log_group": f"/aws/lambda/molecule-offline-{name}"},
    }
    # lambda_http's RequestContext is #[serde(untagged)]: its PassThrough unit variant serializes as null
    return {"Content-Type": "application/json", "x-amzn-request-context": "null", "x-amzn-lambda-context": json.dumps(context)}


def error_codes(env: dict[str, str]) -> set[int]:
    codes = set()
    for part in env.get("AWS_LWA_ERROR_STATUS_CODES", "").split(","):
        part = part.strip()
        if "-" in part:
            low, high = part.split("-")
            codes.update(range(int(low), int(high) + 1))
        elif part:
            codes.add(int(part))
    return codes


def fixture(name: str, **values: str) -> bytes:
    text = (FIXTURES / name).read_text()
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    return text.encode()


def scheduler_event(template: dict, name: str) -> bytes:
    """The schedule's Input as EventBridge Scheduler delivers it: its context attributes filled in."""
    event = next(e for e in tm.effective_properties(template, name)["Events"].values() if e["Type"] == "ScheduleV2")
    text = event["Properties"]["Input"]
    for attribute, value in {
        "<aws.scheduler.scheduled-time>": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "<aws.scheduler.execution-id>": str(uuid.uuid4()),
        "<aws.scheduler.attempt-number>": "1",
        "<aws.scheduler.schedule-arn>": f"arn:aws:scheduler:{tm.OFFLINE_REGION}:{tm.OFFLINE_ACCOUNT}:schedule/default/offline",
    }.items():
        text = text.replace(attribute, value)
    return text.encode()


# ------------------------------------------------------------------------------------------------ the checks
def run_function(template, resolver, name, artifact: Path, ssm_url, cfn_url, closed_url, overrides, state: dict) -> None:
    print(f"[contract] {name}", flush=True)
    port = free_port()
    env = lambda_environment(template, resolver, name, port, ssm_url, closed_url, artifact, overrides)
    fn = Function(name, ADAPTER_BOOTSTRAP, artifact, env, port)
    try:
        ready = fn.wait_ready(env["AWS_LWA_READINESS_CHECK_PATH"])
        if not report(ready is not None, f"{name}: started from $LAMBDA_TASK_ROOT/$_HANDLER and answered {env['AWS_LWA_READINESS_CHECK_PATH']}",
                      f"exit {fn.process.poll()}\n{fn.tail()}"):
            return
        print(f"      ready after {ready * 1000:.0f} ms", flush=True)
        timeout = int(tm.effective_properties(template, name).get("Timeout", 3))
        failing = error_codes(env)
        passthrough = env.get("AWS_LWA_PASS_THROUGH_PATH")

        if name == "MigrateFunction":
            request_id = str(uuid.uuid4())
            status, body = fn.request("POST", passthrough, fixture("cloudformation-create.json",
                                      RESPONSE_URL=f"{cfn_url}/cfn-response/{request_id}?X-Amz-Signature=offline", REQUEST_ID=request_id),
                                      adapter_headers(name, timeout), timeout=timeout)
            report(status == 200 and status not in failing, f"{name}: CloudFormation Create on {passthrough} answered 200", f"{status} {body[:300]!r}")
            puts = [p for p in CloudFormationListener.puts if p["document"].get("RequestId") == request_id]
            report(len(puts) == 1 and puts[0]["document"].get("Status") == "SUCCESS",
                   f"{name}: the response URL received one PUT with Status SUCCESS", json.dumps(puts)[:400])
            report(bool(puts) and puts[0]["content_type"] is None, f"{name}: the PUT carried no Content-Type (the URL is signed without one)")
        elif name == "ApiFunction":
            auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
            status, body = fn.request("GET", "/readyz")
            report(status == 200, f"{name}: /readyz reached Postgres through the SSM parameter", f"{status} {body[:200]!r}")
            status, body = fn.request("POST", "/workspaces", json.dumps({"name": f"offline-{uuid.uuid4().hex[:8]}"}).encode(),
                                      {**auth, "Content-Type": "application/json"})
            created = json.loads(body) if status == 201 else {}
            report(status == 201, f"{name}: POST /workspaces answered 201 (its hand-off may fail offline; the create stands)", f"{status} {body[:300]!r}")
            state["workspace_id"] = created.get("id")
            state["operation_id"] = (created.get("operation") or {}).get("id")
            if state["workspace_id"]:
                status, body = fn.request("GET", f"/workspaces/{state['workspace_id']}", headers=auth)
                report(status == 200, f"{name}: GET /workspaces/{{id}} answered 200", f"{status} {body[:200]!r}")
            status, _ = fn.request("POST", "/internal/migrate", b"{}", {**auth, "Content-Type": "application/json"})
            report(status == 404, f"{name}: no worker endpoint in the api role (/internal/migrate is 404)", str(status))
            # the OpenAPI document is built from the source-generated JSON metadata: a type missing from it fails here, in AOT only
            status, body = fn.request("GET", "/openapi/v1.json", headers=auth)
            document = json.loads(body) if status == 200 else {}
            report(status == 200 and "/workspaces/{id}" in document.get("paths", {})
                   and not any(p.startswith("/internal") for p in document.get("paths", {})),
                   f"{name}: GET /openapi/v1.json answered the document (no worker route in it)", f"{status} {body[:300]!r}")
            status, _ = fn.request("GET", "/openapi/v1.json")
            report(status == 401, f"{name}: GET /openapi/v1.json without a token is 401", str(status))
        elif name == "OperationStepsFunction":
            operation = state.get("operation_id") or str(uuid.uuid4())
            status, body = fn.request("POST", passthrough, fixture("steps-task.json", OPERATION_ID=operation), adapter_headers(name, timeout), timeout=timeout)
            answer = json.loads(body) if status == 200 else {}
            report(status == 200 and status not in failing and answer.get("outcome") in OUTCOMES,
                   f"{name}: a Step Functions task payload on {passthrough} answered an outcome", f"{status} {body[:300]!r}")
            if state.get("operation_id"):
                report(answer.get("outcome") == "ok", f"{name}: begin of the operation the api created answered ok", json.dumps(answer))
                time.sleep(0.3)
                scoped = [line for line in fn.lines if in_scope(line, "operation_id", state["operation_id"])]
                report(bool(scoped), f"{name}: its log lines carry the operation id as a scope", fn.tail(5))
        else:
            status, body = fn.request("POST", passthrough, scheduler_event(template, name), adapter_headers(name, timeout), timeout=timeout)
            try:
                answer = json.loads(body)
            except ValueError:
                answer = None
            report(status == 200 and status not in failing and isinstance(answer, dict),
                   f"{name}: a Scheduler event on {passthrough} answered 200 with the tick's counts", f"{status} {body[:300]!r}")
            check_alarmed_metrics(template, resolver, name, fn)
    finally:
        fn.stop()
        time.sleep(0.2)
        not_json = [line for line in fn.lines if line.strip() and not is_json_object(line)]
        report(not not_json, f"{name}: every stdout line is one JSON object (logs and metrics)", "\n".join(not_json[:5]))
        report(not any(DATABASE_PASSWORD in line for line in fn.lines), f"{name}: the database password is in no log line")
        report(not any(IDEMPOTENCY_KEY in line for line in fn.lines), f"{name}: the idempotency key is in no log line")


def check_alarmed_metrics(template, resolver, name: str, fn) -> None:
    """Every metric of this sweep that an alarm watches is declared by the tick's Embedded Metric Format line, under
    the alarm's namespace and dimension names, with the dimension values the alarm names: an alarm on a metric the
    binary never writes (a renamed count, a missing dimension) would stay silent forever."""
    sweep = tm.SWEEPS[name]
    deadline = time.monotonic() + 5
    emf = []
    while not emf and time.monotonic() < deadline:
        emf = [entry for entry in map(json_object, list(fn.lines)) if entry is not None and "_aws" in entry]
        time.sleep(0.1)
    if not report(len(emf) == 1, f"{name}: the tick wrote one Embedded Metric Format line", fn.tail(5)):
        return
    line = emf[0]
    declared = {(d["Namespace"], tuple(dims), m["Name"]) for d in line["_aws"]["CloudWatchMetrics"]
                for dims in d["Dimensions"] for m in d["Metrics"]}
    watched = [(alarm, resolver.resolve(m)) for alarm, props in tm.alarms(template).items() for m in tm.alarm_metrics(props)]
    mine = [(alarm, m) for alarm, m in watched
            if m["Namespace"] == "Molecule" and {"Name": "Sweep", "Value": sweep} in m["Dimensions"]]
    report(bool(mine), f"{name}: alarms watch its metrics", str(len(mine)))
    for alarm, metric in mine:
        names = tuple(d["Name"] for d in metric["Dimensions"])
        values_match = all(str(line.get(d["Name"])) == str(d["Value"]) for d in metric["Dimensions"])
        by = ", ".join(f"{d['Name']}={d['Value']}" for d in metric["Dimensions"])
        report((metric["Namespace"], names, metric["MetricName"]) in declared and values_match,
               f"{name}: {alarm} watches {metric['MetricName']} by {by}, as the tick writes it",
               json.dumps({k: line.get(k) for k in ("_aws", *names)})[:600])


def in_scope(line: str, key: str, value: str) -> bool:
    """Whether a JSON console log line has `key` = `value` among its scopes (not merely in its message or state)."""
    scopes = (json_object(line) or {}).get("Scopes", [])
    return any(isinstance(scope, dict) and str(scope.get(key)) == value for scope in scopes)


def json_object(line: str) -> dict | None:
    try:
        entry = json.loads(line)
    except ValueError:
        return None
    return entry if isinstance(entry, dict) else None


def is_json_object(line: str) -> bool:
    return json_object(line) is not None


def cold_start(template, resolver, artifacts: Path, jit: Path, ssm_url, closed_url, runs: int, workspace_id: str | None, overrides) -> None:
    """Process start -> first 200 of a database-backed GET /workspaces/{id}, AOT binary and JIT build, same environment."""
    if not workspace_id:
        print("[cold start] skipped: the api role created no workspace to read", flush=True)
        return
    path = f"/workspaces/{workspace_id}"
    auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    builds = {
        "AOT": (ADAPTER_BOOTSTRAP, artifacts / "ApiFunction"),
        "JIT": (["dotnet", str(jit / "Molecule.Api.dll")], jit),
    }
    timings: dict[str, list[float]] = {k: [] for k in builds}
    for _ in range(runs):
        for label, (command, cwd) in builds.items():
            port = free_port()
            env = lambda_environment(template, resolver, "ApiFunction", port, ssm_url, closed_url, artifacts / "ApiFunction", overrides)
            env["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1"
            fn = Function("ApiFunction", command, cwd, env, port)
            try:
                answered = fn.wait_ready(path, headers=auth, every_s=0.002, request_timeout_s=5)
                if answered is not None:
                    timings[label].append(answered * 1000)
            finally:
                fn.stop()
    for label, values in timings.items():
        if values:
            print(f"[cold start] {label}: process start -> first database-backed 200 (GET /workspaces/{{id}}): "
                  f"median {statistics.median(values):.0f} ms, min {min(values):.0f} ms, max {max(values):.0f} ms over {len(values)} runs", flush=True)
        else:
            print(f"[cold start] {label}: never answered 200", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--artifacts", type=Path, required=True)
    parser.add_argument("--jit", type=Path, required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--cold-runs", type=int, default=5)
    parser.add_argument("--override", action="append", default=[])
    args = parser.parse_args()
    args.artifacts, args.jit = args.artifacts.resolve(), args.jit.resolve()

    overrides: dict[str, dict[str, str]] = {}
    for item in args.override:
        function, assignment = item.split(":", 1)
        key, value = assignment.split("=", 1)
        overrides.setdefault(function, {})[key] = value

    template = tm.load()
    resolver = tm.Resolver(template, FIXTURE_PARAMETERS)
    global DATABASE_PASSWORD
    given = [p.split("=", 1)[1] for p in args.database.split(";") if p.split("=", 1)[0].strip().lower() in ("password", "pwd")]
    if given and given[0]:
        DATABASE_PASSWORD = given[0]
        FakeSsm.value = args.database
    else:
        FakeSsm.value = f"{args.database};Password={DATABASE_PASSWORD}"
    ssm_url = serve(FakeSsm)
    cfn_url = serve(CloudFormationListener)
    closed_url = f"http://127.0.0.1:{free_port()}"  # bound and released: nothing listens there

    state: dict = {}
    for name in ORDER:
        run_function(template, resolver, name, args.artifacts / name, ssm_url, cfn_url, closed_url, overrides.get(name, {}), state)
    report(any(r.get("Name") == SSM_PARAMETER and r.get("WithDecryption") is True for r in FakeSsm.requests),
           "the connection string was read from SSM with decryption")
    report(any(r.get("Name") == IDEMPOTENCY_KEY_PARAMETER and r.get("WithDecryption") is True for r in FakeSsm.requests),
           "the api function read the idempotency key from SSM with decryption")
    cold_start(template, resolver, args.artifacts, args.jit, ssm_url, closed_url, args.cold_runs, state.get("workspace_id"),
               overrides.get("ApiFunction", {}))
    print(f"lambda contract: {'all passed' if not failures else f'{len(failures)} failed'}", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
