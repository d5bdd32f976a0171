"""Reads template.yaml the way SAM does (Globals merged into each function) and resolves the intrinsics an
environment variable uses, with fixture values for the parameters: what the offline checks need to start each
function's binary with that function's environment."""

import re
from pathlib import Path

from samtranslator.yaml_helper import yaml_parse

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = REPO_ROOT / "template.yaml"

FUNCTION_TYPE = "AWS::Serverless::Function"

# the sweep functions, each with the Sweep dimension of its metric lines (OrphanSweeper.SweepName, InstanceReconciler.SweepName)
SWEEPS = {"OrphanSweeperFunction": "orphan-sweeper", "InstanceReconcilerFunction": "instance-reconciler"}

# fixture values for the template's parameters in offline runs (no AWS account is involved)
OFFLINE_REGION = "us-east-1"
OFFLINE_ACCOUNT = "123456789012"

# what !Ref AWS::NoValue resolves to: the property (or variable) is left out
NO_VALUE = object()


def load(path: Path = TEMPLATE) -> dict:
    return yaml_parse(path.read_text())


def functions(template: dict) -> dict[str, dict]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == FUNCTION_TYPE}


def effective_properties(template: dict, name: str) -> dict:
    """A function's properties with Globals.Function merged in (maps merged, the function's own values winning)."""
    merged = dict(template.get("Globals", {}).get("Function", {}))
    own = template["Resources"][name].get("Properties", {})
    for key, value in own.items():
        if key == "Environment":
            merged["Environment"] = {
                "Variables": {
                    **merged.get("Environment", {}).get("Variables", {}),
                    **value.get("Variables", {}),
                }
            }
        else:
            merged[key] = value
    return merged


def environment(template: dict, name: str) -> dict:
    return effective_properties(template, name).get("Environment", {}).get("Variables", {})


class Resolver:
    """Resolves Ref / Fn::Join / Fn::Sub / Fn::GetAtt / Fn::If with fixture parameter values."""

    def __init__(self, template: dict, parameters: dict[str, object]):
        self.template = template
        self.parameters = dict(parameters)
        for pname, spec in template.get("Parameters", {}).items():
            if pname not in self.parameters and "Default" in spec:
                default = spec["Default"]
                self.parameters[pname] = default.split(",") if spec["Type"].startswith("List") or spec["Type"] == "CommaDelimitedList" else default
        self.pseudo = {
            "AWS::Region": OFFLINE_REGION,
            "AWS::AccountId": OFFLINE_ACCOUNT,
            "AWS::Partition": "aws",
            "AWS::StackName": "molecule-offline",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NoValue": NO_VALUE,
        }

    def ref(self, name: str):
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        if name in self.template["Resources"]:
            return f"offline-{name}"
        raise KeyError(f"Ref {name}: no parameter or resource of that name")

    def condition(self, name: str) -> bool:
        return bool(self.resolve(self.template["Conditions"][name]))

    def resolve(self, value):
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) != 1:
            return {k: self.resolve(v) for k, v in value.items()}
        (fn, arg), = value.items()
        if fn == "Ref":
            return self.ref(arg)
        if fn == "Fn::Join":
            return arg[0].join(str(x) for x in self.resolve(arg[1]))
        if fn == "Fn::GetAtt":
            resource, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
            return f"arn:aws:offline:{OFFLINE_REGION}:{OFFLINE_ACCOUNT}:{resource}/{attribute}"
        if fn == "Fn::Sub":
            text, extra = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))

            def sub(match):
                key = match.group(1)
                if key in extra:
                    return str(extra[key])
                if "." in key:
                    return self.resolve({"Fn::GetAtt": key.split(".", 1)})
                return str(self.ref(key))

            return re.sub(r"\$\{([^!}][^}]*)\}", sub, text)
        if fn == "Fn::If":
            return self.resolve(arg[1] if self.condition(arg[0]) else arg[2])
        if fn == "Fn::Equals":
            left, right = self.resolve(arg)
            return left == right
        if fn == "Fn::Not":
            return not self.resolve(arg[0])
        return {fn: self.resolve(arg)}


ALARM_TYPE = "AWS::CloudWatch::Alarm"


def alarms(template: dict) -> dict[str, dict]:
    return {name: r["Properties"] for name, r in template["Resources"].items() if r["Type"] == ALARM_TYPE}


def alarm_metrics(alarm: dict) -> list[dict]:
    """The metrics an alarm watches, as {Namespace, MetricName, Dimensions}: its own, or each of its metric math's."""
    if "MetricName" in alarm:
        return [{"Namespace": alarm["Namespace"], "MetricName": alarm["MetricName"], "Dimensions": alarm.get("Dimensions", [])}]
    return [dict(m["MetricStat"]["Metric"], Dimensions=m["MetricStat"]["Metric"].get("Dimensions", []))
            for m in alarm.get("Metrics", []) if "MetricStat" in m]
