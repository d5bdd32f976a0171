"""Structural assertions on template.yaml, its offline translation to CloudFormation, the Makefile and samconfig.toml:
every requirement of the deployment (DESIGN section 11, issue 10) that a file can show without an AWS account.

    python template_checks.py TRANSLATED_JSON

Prints one line per check and a closing "template checks: N passed, M failed"; exits 1 if any failed.
"""

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import template_model as tm

WORKERS = {
    "OperationStepsFunction": ("steps", "/internal/steps"),
    "OrphanSweeperFunction": ("sweeps", "/internal/sweeps/orphans"),
    "InstanceReconcilerFunction": ("sweeps", "/internal/sweeps/reconcile"),
    "MigrateFunction": ("migrate", "/internal/migrate"),
}
ALL_FUNCTIONS = ("ApiFunction", *WORKERS)
PUT_ITEM_ROLES = {"ApiFunction", "InstanceReconcilerFunction"}
CORS_HEADERS = ["Authorization", "Content-Type", "Idempotency-Key", "If-Match", "X-Confirm-Name", "X-Molecule-Org-Slug"]
CORS_EXPOSED = ["Location", "ETag", "Link", "Retry-After"]
DEFAULT_ADAPTER_LAYER = "arn:aws:lambda:${AWS::Region}:753240598075:layer:LambdaAdapterLayerX86:30"
ASL_PATH = "infra/statemachines/workspace-operation.asl.json"

results: list[tuple[bool, str, str]] = []


def check(name: str, holds: bool, detail: str = "") -> None:
    results.append((bool(holds), name, detail))


def statements(document) -> list[dict]:
    found = document.get("Statement", []) if isinstance(document, dict) else []
    return [found] if isinstance(found, dict) else list(found)


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def role_statements(cfn: dict, role_name: str) -> list[dict]:
    """Every statement that can apply to a role: its inline policies and the managed policies of this template it names."""
    role = cfn["Resources"][role_name]["Properties"]
    found = []
    for policy in role.get("Policies", []):
        # a conditional policy (Fn::If): either branch could apply
        for branch in policy["Fn::If"][1:] if "Fn::If" in policy else [policy]:
            if isinstance(branch, dict) and "PolicyDocument" in branch:
                found += statements(branch["PolicyDocument"])
    for arn in role.get("ManagedPolicyArns", []):
        if isinstance(arn, dict) and "Ref" in arn and arn["Ref"] in cfn["Resources"]:
            found += statements(cfn["Resources"][arn["Ref"]]["Properties"]["PolicyDocument"])
    # Fn::If around a statement: both branches could apply
    flat = []
    for s in found:
        if isinstance(s, dict) and "Fn::If" in s:
            flat += [b for b in s["Fn::If"][1:] if isinstance(b, dict) and "Effect" in b]
        else:
            flat.append(s)
    return flat


def params_default(template: dict, name: str):
    return template.get("Parameters", {}).get(name, {}).get("Default")


def actions(statement: dict) -> list[str]:
    return as_list(statement.get("Action", []))


def main(argv: list[str]) -> int:
    template = tm.load()
    cfn = json.loads(Path(argv[1]).read_text())
    resources = template["Resources"]
    globals_fn = template.get("Globals", {}).get("Function", {})
    fns = tm.functions(template)

    # ---- the functions: one build, differing only by environment
    check("exactly the five functions", sorted(fns) == sorted(ALL_FUNCTIONS), str(sorted(fns)))
    assembly = re.search(r"<AssemblyName>([^<]+)</AssemblyName>", (tm.REPO_ROOT / "src/Molecule.Api/Molecule.Api.csproj").read_text())
    check("Handler is the binary's name (the csproj's AssemblyName)", assembly and globals_fn.get("Handler") == assembly.group(1),
          f"{globals_fn.get('Handler')} vs {assembly and assembly.group(1)}")
    check("Runtime provided.al2023, x86_64", globals_fn.get("Runtime") == "provided.al2023" and globals_fn.get("Architectures") == ["x86_64"])
    for key in ("CodeUri", "Handler", "Runtime", "Architectures", "Layers"):
        own = [n for n, r in fns.items() if key in r.get("Properties", {})]
        check(f"{key} is shared (Globals only, no function overrides it)", key in globals_fn and not own, str(own))
    metadata = {n: r.get("Metadata") for n, r in fns.items()}
    check("every function has the same build metadata: BuildMethod makefile",
          all(m == {"BuildMethod": "makefile"} for m in metadata.values()), str(metadata))
    for name in fns:
        dry = subprocess.run(["make", "-n", f"build-{name}", "ARTIFACTS_DIR=/nonexistent/offline-check"], cwd=tm.REPO_ROOT,
                             capture_output=True, text=True)
        check(f"Makefile has build-{name}", dry.returncode == 0 and "publish-aot.sh" in dry.stdout, dry.stderr.strip()[:200])
    layer = globals_fn.get("Layers", [None])[0]
    check("the adapter layer is the ARN parameter, defaulting to the x86_64 layer version 30",
          isinstance(layer, dict) and layer.get("Fn::If", [None, None, None])[1] == {"Fn::Sub": DEFAULT_ADAPTER_LAYER}
          and layer["Fn::If"][2] == {"Ref": "LambdaWebAdapterLayerArn"}
          and template["Conditions"]["UseDefaultAdapterLayer"] == {"Fn::Equals": [{"Ref": "LambdaWebAdapterLayerArn"}, ""]}, str(layer))
    check("every function runs in the VPC parameters", globals_fn.get("VpcConfig") == {
        "SubnetIds": {"Ref": "SubnetIds"}, "SecurityGroupIds": {"Ref": "SecurityGroupIds"}})
    check("X-Ray tracing on every function", globals_fn.get("Tracing") == "Active")

    # ---- each function's environment
    envs = {n: tm.environment(template, n) for n in fns}
    for name, env in envs.items():
        role = "api" if name == "ApiFunction" else WORKERS[name][0]
        check(f"{name}: Molecule__Role={role}", env.get("Molecule__Role") == role, str(env.get("Molecule__Role")))
        check(f"{name}: ASPNETCORE_URLS on loopback 8080, the adapter's port",
              env.get("ASPNETCORE_URLS") == "http://127.0.0.1:8080" and env.get("AWS_LWA_PORT", "8080") == "8080")
        check(f"{name}: readiness on /healthz", env.get("AWS_LWA_READINESS_CHECK_PATH") == "/healthz")
        check(f"{name}: MigrateOnStart false", env.get("Molecule__MigrateOnStart") == "false", str(env.get("Molecule__MigrateOnStart")))
        check(f"{name}: connection string from the SSM parameter", env.get("Molecule__Database__ConnectionStringParameter") == {"Ref": "DatabaseConnectionParameter"})
        check(f"{name}: no connection string in the template", not any(k.startswith("ConnectionStrings__") for k in env))
        pool = env.get("Molecule__Database__MaxPoolSize")
        check(f"{name}: a few pooled connections (one request at a time per instance)", pool is not None and 1 <= int(pool) <= 5, str(pool))
        if name in WORKERS:
            check(f"{name}: pass-through path {WORKERS[name][1]}", env.get("AWS_LWA_PASS_THROUGH_PATH") == WORKERS[name][1],
                  str(env.get("AWS_LWA_PASS_THROUGH_PATH")))
            check(f"{name}: AWS_LWA_ERROR_STATUS_CODES=500-599", env.get("AWS_LWA_ERROR_STATUS_CODES") == "500-599")
        else:
            check(f"{name}: no pass-through path (HTTP only)", "AWS_LWA_PASS_THROUGH_PATH" not in env)
    check("DispatchTable is what the dispatcher writes to", envs["ApiFunction"].get("Molecule__Dispatch__TableName") == {"Ref": "DispatchTable"}
          and envs["ApiFunction"].get("Molecule__Dispatch__Mode") == "dynamodb")
    check("the admin token hash reaches only the api function",
          [n for n, e in envs.items() if any("AdminToken" in k for k in e)] == ["ApiFunction"]
          and envs["ApiFunction"].get("Molecule__Auth__AdminTokenSha256__0") == {"Ref": "AdminTokenSha256"})
    check("the reconciler's mode is a parameter (observe first)",
          envs["InstanceReconcilerFunction"].get("Molecule__Sweeps__ReconcilerMode") == {"Ref": "ReconcilerMode"}
          and template["Parameters"]["ReconcilerMode"].get("Default") == "observe")

    # ---- the API: timeouts under API Gateway's 30 s
    api = tm.effective_properties(template, "ApiFunction")
    check("api function timeout below the HTTP API's 30 s", int(api.get("Timeout", 3)) < 30, str(api.get("Timeout")))
    budget = float(envs["ApiFunction"].get("Molecule__Delete__BudgetSeconds", 99))
    check("delete budget below the api function's timeout", budget < int(api.get("Timeout", 3)), f"{budget} s")
    check("api database command timeout below the delete budget",
          int(envs["ApiFunction"].get("Molecule__Database__CommandTimeoutSeconds", 99)) < budget)
    events = api.get("Events", {})
    http = [e for e in events.values() if e["Type"] == "HttpApi"]
    check("the HTTP API sends every path to api ($default route)", len(http) == 1 and http[0]["Properties"] == {"ApiId": {"Ref": "HttpApi"}},
          str(http))
    cors = resources["HttpApi"]["Properties"].get("CorsConfiguration", {})
    check("CORS origins from the parameter", cors.get("AllowOrigins") == {"Ref": "CorsAllowedOrigins"})
    check("CORS allowed headers are the canvas's", sorted(cors.get("AllowHeaders", [])) == sorted(CORS_HEADERS), str(cors.get("AllowHeaders")))
    check("CORS exposed headers are the canvas's", sorted(cors.get("ExposeHeaders", [])) == sorted(CORS_EXPOSED), str(cors.get("ExposeHeaders")))
    app_cors = (tm.REPO_ROOT / "src/Molecule.Api/Hosting/CorsRegistration.cs").read_text()

    def cs_array(name: str) -> list[str]:
        found = re.search(name + r"\s*=\s*\[([^\]]*)\]", app_cors)
        return re.findall(r'"([^"]+)"', found.group(1)) if found else []

    check("the app's local CORS policy has the same headers as the HTTP API's",
          sorted(cs_array("AllowedHeaders")) == sorted(CORS_HEADERS) and sorted(cs_array("ExposedHeaders")) == sorted(CORS_EXPOSED))

    # ---- the sweeps
    for name in tm.SWEEPS:
        props = tm.effective_properties(template, name)
        schedules = [e for e in props.get("Events", {}).values() if e["Type"] == "ScheduleV2"]
        s = schedules[0]["Properties"] if len(schedules) == 1 else {}
        check(f"{name}: ScheduleV2 rate(1 minute)", s.get("ScheduleExpression") == "rate(1 minute)")
        check(f"{name}: OmitName true (no name collision between stacks)", s.get("OmitName") is True)
        check(f"{name}: the schedule never retries a tick", s.get("RetryPolicy", {}).get("MaximumRetryAttempts") == 0)
        check(f"{name}: reserved concurrency 1 (ticks never overlap)", props.get("ReservedConcurrentExecutions") == 1)
        check(f"{name}: no async retries (EventInvokeConfig MaximumRetryAttempts 0)",
              props.get("EventInvokeConfig", {}).get("MaximumRetryAttempts") == 0)
        try:
            json.loads(s.get("Input", ""))
            check(f"{name}: the schedule's Input is JSON", True)
        except ValueError as error:
            check(f"{name}: the schedule's Input is JSON", False, str(error))
        check(f"{name}: timeout above the tick budget (48 s)", int(props.get("Timeout", 3)) > 48)

    # ---- migrations on every deploy
    migrate = tm.effective_properties(template, "MigrateFunction")
    custom = [(n, r) for n, r in resources.items() if r["Type"] == "Custom::Migrate"]
    cprops = custom[0][1]["Properties"] if len(custom) == 1 else {}
    check("one Custom::Migrate backed by the migrate function", cprops.get("ServiceToken") == {"Fn::GetAtt": ["MigrateFunction", "Arn"]})
    check("the custom resource changes with every new build (its property names the function's published version)",
          migrate.get("AutoPublishAlias") and {"Ref": "MigrateFunction.Version"} in cprops.values())
    mbudget = float(envs["MigrateFunction"].get("Molecule__Migrate__BudgetSeconds", 10_000))
    check("the migrations' budget leaves time to answer CloudFormation before the function's timeout",
          mbudget + 15 <= int(migrate.get("Timeout", 3)), f"{mbudget} s of {migrate.get('Timeout')} s")

    # ---- the state machine
    sm = resources["OperationStateMachine"]["Properties"]
    check("state machine definition is the ASL file", sm.get("DefinitionUri") == ASL_PATH)
    asl_file = tm.REPO_ROOT / ASL_PATH
    placeholders = set(re.findall(r"\$\{([^}]+)\}", asl_file.read_text())) if asl_file.exists() else {"<missing ASL file>"}
    check("every ${...} of the ASL has a DefinitionSubstitutions key and no key is unused",
          placeholders == set(sm.get("DefinitionSubstitutions", {})), f"ASL {sorted(placeholders)} vs {sorted(sm.get('DefinitionSubstitutions', {}))}")
    check("StepsFunctionArn is the steps function",
          sm.get("DefinitionSubstitutions", {}).get("StepsFunctionArn") == {"Fn::GetAtt": ["OperationStepsFunction", "Arn"]})
    check("execution logging to a log group", sm.get("Logging", {}).get("Destinations", [{}])[0].get("CloudWatchLogsLogGroup", {})
          .get("LogGroupArn") == {"Fn::GetAtt": ["StateMachineLogGroup", "Arn"]})
    check("state machine tracing on", sm.get("Tracing", {}).get("Enabled") is True)
    sm_role = cfn["Resources"]["OperationStateMachine"]["Properties"]["RoleArn"]["Fn::GetAtt"][0]
    invokes = [s for s in role_statements(cfn, sm_role) if any(a.startswith("lambda:") for a in actions(s))]
    invoke_targets = [r for s in invokes for r in as_list(s.get("Resource"))]
    check("the state machine may invoke only the steps function",
          all(actions(s) == ["lambda:InvokeFunction"] for s in invokes)
          and all(json.dumps(t).count("OperationStepsFunction") == 1 for t in invoke_targets) and invoke_targets,
          json.dumps(invoke_targets))

    # ---- the dispatch table and the Pipe
    table = resources["DispatchTable"]["Properties"]
    check("dispatch table on demand", table.get("BillingMode") == "PAY_PER_REQUEST")
    check("dispatch table keyed by operation_id (S)",
          table.get("KeySchema") == [{"AttributeName": "operation_id", "KeyType": "HASH"}]
          and table.get("AttributeDefinitions") == [{"AttributeName": "operation_id", "AttributeType": "S"}])
    check("dispatch table stream NEW_IMAGE", table.get("StreamSpecification") == {"StreamViewType": "NEW_IMAGE"})
    check("dispatch table TTL on expires_at", table.get("TimeToLiveSpecification") == {"AttributeName": "expires_at", "Enabled": True})
    pipe = resources["DispatchPipe"]["Properties"]
    stream = pipe.get("SourceParameters", {}).get("DynamoDBStreamParameters", {})
    check("Pipe reads the table's stream", pipe.get("Source") == {"Fn::GetAtt": ["DispatchTable", "StreamArn"]})
    check("Pipe batch size 1", stream.get("BatchSize") == 1)
    patterns = [json.loads(f["Pattern"]) for f in pipe.get("SourceParameters", {}).get("FilterCriteria", {}).get("Filters", [])]
    check("Pipe filters on INSERT and MODIFY", patterns == [{"eventName": ["INSERT", "MODIFY"]}], str(patterns))
    dlq = stream.get("DeadLetterConfig", {}).get("Arn", {})
    check("Pipe's dead-letter queue is an SQS queue of this stack",
          isinstance(dlq, dict) and resources.get(dlq.get("Fn::GetAtt", [""])[0], {}).get("Type") == "AWS::SQS::Queue")
    check("Pipe targets the state machine, FIRE_AND_FORGET", pipe.get("Target") == {"Ref": "OperationStateMachine"}
          and pipe.get("TargetParameters", {}).get("StepFunctionStateMachineParameters", {}).get("InvocationType") == "FIRE_AND_FORGET")
    template_text = pipe.get("TargetParameters", {}).get("InputTemplate", "")
    rendered = re.sub(r"<\$\.dynamodb\.NewImage\.operation_id\.S>", "0192d3c4-0000-7000-8000-000000000001", template_text)
    try:
        check("Pipe InputTemplate yields {\"operation_id\": ...}", json.loads(rendered) == {"operation_id": "0192d3c4-0000-7000-8000-000000000001"},
              rendered)
    except ValueError as error:
        check("Pipe InputTemplate yields {\"operation_id\": ...}", False, f"{rendered}: {error}")

    # ---- IAM, from the translated template (what CloudFormation will create)
    function_roles = {n: cfn["Resources"][n]["Properties"]["Role"]["Fn::GetAtt"][0] for n in ALL_FUNCTIONS}
    for name, role in function_roles.items():
        stmts = role_statements(cfn, role)
        all_actions = [a for s in stmts for a in actions(s)]
        check(f"{name}: no wildcard action", not any(a == "*" or a.endswith(":*") for a in all_actions), str(all_actions))
        puts = [s for s in stmts if "dynamodb:PutItem" in actions(s)]
        if name in PUT_ITEM_ROLES:
            check(f"{name}: dynamodb:PutItem on the dispatch table only",
                  len(puts) == 1 and puts[0].get("Resource") == {"Fn::GetAtt": ["DispatchTable", "Arn"]}, json.dumps(puts))
        else:
            check(f"{name}: no dynamodb:PutItem", not puts)
        terminates = [s for s in stmts if "ec2:TerminateInstances" in actions(s)]
        check(f"{name}: ec2:TerminateInstances only on boxes tagged with this deployment",
              all(s.get("Condition", {}).get("StringEquals", {}).get("aws:ResourceTag/molecule:deployment") == {"Ref": "DeploymentId"}
                  for s in terminates), json.dumps(terminates))
        check(f"{name}: ec2:RunInstances only in the steps function", ("ec2:RunInstances" in all_actions) == (name == "OperationStepsFunction"))
        tags = [s for s in stmts if "ec2:CreateTags" in actions(s)]
        check(f"{name}: ec2:CreateTags only when launching",
              all(s.get("Condition", {}).get("StringEquals", {}).get("ec2:CreateAction") == "RunInstances" for s in tags))
        ssm = [json.dumps(s.get("Resource")) for s in stmts if "ssm:GetParameter" in actions(s)]
        wanted = ["parameter${DatabaseConnectionParameter}"] + (["parameter${IdempotencyKeyParameter}"] if name == "ApiFunction" else [])
        check(f"{name}: ssm:GetParameter on exactly its parameters ({', '.join(w.split('$')[1] for w in wanted)})",
              len(ssm) == len(wanted) and all(any(w in r for r in ssm) for w in wanted), json.dumps(ssm))
        passes = [s for s in stmts if "iam:PassRole" in actions(s)]
        check(f"{name}: iam:PassRole only of the box role, only to EC2",
              all("${Ec2InstanceRoleName}" in json.dumps(s.get("Resource")) and s.get("Condition") for s in passes)
              and (not passes or name == "OperationStepsFunction"))

    # ---- the translated schedules and invoke configs
    schedules = [r["Properties"] for r in cfn["Resources"].values() if r["Type"] == "AWS::Scheduler::Schedule"]
    check("two schedules, neither named (OmitName)", len(schedules) == 2 and all("Name" not in s for s in schedules))
    check("schedules never retry", all(s["Target"].get("RetryPolicy", {}).get("MaximumRetryAttempts") == 0 for s in schedules))
    invoke_configs = [r["Properties"] for r in cfn["Resources"].values() if r["Type"] == "AWS::Lambda::EventInvokeConfig"]
    check("both sweeps have an EventInvokeConfig with no retries",
          len(invoke_configs) == 2 and all(c.get("MaximumRetryAttempts") == 0 for c in invoke_configs))

    # ---- alarms: unnamed, notifying the topic parameter when there is one, the sweeps' watched per deployment
    alarms = tm.alarms(template)
    notify = {"Fn::If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]}
    check("alarms: none is named (two stacks in one account)", bool(alarms) and all("AlarmName" not in a for a in alarms.values()))
    check("alarms: each notifies AlarmTopicArn when it is set, on alarm and on recovery",
          all(a.get("AlarmActions") == notify and a.get("OKActions") == notify for a in alarms.values()),
          str([n for n, a in alarms.items() if a.get("AlarmActions") != notify or a.get("OKActions") != notify]))
    check("alarms: the topic is optional (HasAlarmTopic)", params_default(template, "AlarmTopicArn") == ""
          and template["Conditions"].get("HasAlarmTopic") == {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmTopicArn"}, ""]}]})
    check("alarms: each says what it means and where to look", all(len(a.get("AlarmDescription", "")) >= 80 for a in alarms.values()),
          str([n for n, a in alarms.items() if len(a.get("AlarmDescription", "")) < 80]))
    watched = [(n, a, m) for n, a in alarms.items() for m in tm.alarm_metrics(a)]
    sweep_metrics = [(n, m) for n, _, m in watched if m["Namespace"] == "Molecule"]
    check("alarms: every sweep metric they watch is this deployment's (Deployment = DeploymentId) and one sweep's",
          bool(sweep_metrics) and all([d["Name"] for d in m["Dimensions"]] == ["Deployment", "Sweep"]
                                      and m["Dimensions"][0]["Value"] == {"Ref": "DeploymentId"}
                                      and m["Dimensions"][1]["Value"] in tm.SWEEPS.values() for _, m in sweep_metrics),
          json.dumps([n for n, m in sweep_metrics][:5]))

    def watches(namespace, metric, **dimensions):
        return [a for _, a, m in watched if m["Namespace"] == namespace and m["MetricName"] == metric
                and all({"Name": k, "Value": v} in m["Dimensions"] for k, v in dimensions.items())]

    for sweep in tm.SWEEPS.values():
        failing = watches("Molecule", "tick_failed", Sweep=sweep)
        silent = watches("Molecule", "duration_ms", Sweep=sweep)
        check(f"alarms: the {sweep} failing tick after tick (tick_failed)", len(failing) == 1 and failing[0].get("DatapointsToAlarm", 1) > 1)
        check(f"alarms: the {sweep} silent (no tick line; missing data breaching)",
              len(silent) == 1 and silent[0].get("Statistic") == "SampleCount" and silent[0].get("ComparisonOperator") == "LessThanThreshold"
              and silent[0].get("TreatMissingData") == "breaching")
    check("alarms: a leaked box reaped", len(watches("Molecule", "leaked", Sweep="orphan-sweeper")) == 1)
    check("alarms: the mass-failure brake tripped", len(watches("Molecule", "braked", Sweep="instance-reconciler")) == 1)
    check("alarms: operations whose walk died (expired claims, abandoned operations)",
          len(watches("Molecule", "expired_claims", Sweep="instance-reconciler")) == 1
          and watches("Molecule", "expired_claims", Sweep="instance-reconciler") == watches("Molecule", "abandoned_operations", Sweep="instance-reconciler"))
    check("alarms: the dispatch dead-letter queue holding records",
          len(watches("AWS/SQS", "ApproximateNumberOfMessagesVisible", QueueName={"Fn::GetAtt": ["DispatchDeadLetterQueue", "QueueName"]})) == 1)
    check("alarms: the steps function's errors", len(watches("AWS/Lambda", "Errors", FunctionName={"Ref": "OperationStepsFunction"})) == 1)
    check("alarms: state machine executions timing out",
          len(watches("AWS/States", "ExecutionsTimedOut", StateMachineArn={"Ref": "OperationStateMachine"})) == 1)
    check("alarms: the HTTP API's 5xx", len(watches("AWS/ApiGateway", "5xx", ApiId={"Ref": "HttpApi"})) == 1)
    translated_alarms = [r for r in cfn["Resources"].values() if r["Type"] == tm.ALARM_TYPE]
    check("alarms: all in the translated template", len(translated_alarms) == len(alarms), f"{len(translated_alarms)} of {len(alarms)}")

    # ---- parameters and outputs
    params = template["Parameters"]
    for required in ("SubnetIds", "SecurityGroupIds", "DatabaseConnectionParameter", "DeploymentId", "Ec2ImageId", "Ec2InstanceType",
                     "Ec2SubnetId", "Ec2SecurityGroupIds", "Ec2InstanceProfile", "AdminTokenSha256", "IdempotencyKeyParameter",
                     "LambdaWebAdapterLayerArn"):
        check(f"parameter {required}", required in params)
    check("the admin token hash is NoEcho", params.get("AdminTokenSha256", {}).get("NoEcho") is True)
    # (the parameter's description shows the shape "Password=..." with no value)
    check("no secret in the template", not re.search(r"(?i)password\s*=\s*(?!\.\.\.)[^\s;\"']|BEGIN [A-Z ]*PRIVATE KEY", tm.TEMPLATE.read_text()))
    for output in ("ApiUrl", "StateMachineArn", "DispatchTableName"):
        check(f"output {output}", output in template.get("Outputs", {}))

    # ---- samconfig.toml
    config = tomllib.loads((tm.REPO_ROOT / "samconfig.toml").read_text())
    deploy = config.get("default", {}).get("deploy", {}).get("parameters", {})
    build = config.get("default", {}).get("build", {}).get("parameters", {})
    check("samconfig: stack_name", bool(config.get("default", {}).get("global", {}).get("parameters", {}).get("stack_name")))
    check("samconfig: capabilities for IAM and the transform", {"CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"} <= set(str(deploy.get("capabilities", "")).split()))
    check("samconfig: resolve_s3 and confirm_changeset", deploy.get("resolve_s3") is True and deploy.get("confirm_changeset") is True)
    check("samconfig: build in source (no copy of the repository per function)", build.get("build_in_source") is True)
    overrides = {o.split("=", 1)[0] for o in deploy.get("parameter_overrides", [])}
    undefaulted = {p for p, spec in params.items() if "Default" not in spec}
    check("samconfig: a placeholder for every parameter without a default, and no unknown one",
          undefaulted <= overrides <= set(params), f"missing {sorted(undefaulted - overrides)}, unknown {sorted(overrides - set(params))}")

    failed = [r for r in results if not r[0]]
    for ok, name, detail in results:
        print(f"  {'ok  ' if ok else 'FAIL'} {name}" + ("" if ok or not detail else f"  -- {detail}"))
    print(f"template checks: {len(results) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
