"""Translates template.yaml to plain CloudFormation offline, with the SAM translator library, as `sam package` and the
AWS::Serverless transform would: every code location becomes a placeholder S3 object, and the state machine's
DefinitionUri is inlined as Definition, so a linter sees the ASL next to its DefinitionSubstitutions (a ${...} in the
ASL with no matching key is then an error, not a surprise at deploy time).

    python translate.py TEMPLATE OUT_JSON [--asl PATH]   (--asl: use this ASL file instead of the template's)
"""

import copy
import json
import os
import sys
from pathlib import Path

# the translator asks a boto3 session for a region (no call is made); never let it look for one on the network
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

import template_model as tm

PLACEHOLDER_CODE = "s3://molecule-placeholder-artifacts/molecule-serverless/placeholder.zip"


class NoManagedPolicies:
    """The template names no managed policy by name (SAM's own are built from ARNs): nothing to look up in IAM."""

    def load(self):
        return {}


def package(template: dict, template_dir: Path, asl_override: Path | None) -> dict:
    packaged = copy.deepcopy(template)
    function_globals = packaged.get("Globals", {}).get("Function", {})
    if "CodeUri" in function_globals:
        function_globals["CodeUri"] = PLACEHOLDER_CODE
    for resource in packaged["Resources"].values():
        props = resource.get("Properties", {})
        if resource["Type"] == tm.FUNCTION_TYPE and "CodeUri" in props:
            props["CodeUri"] = PLACEHOLDER_CODE
        if resource["Type"] == "AWS::Serverless::StateMachine" and "DefinitionUri" in props:
            uri = props.pop("DefinitionUri")
            props["Definition"] = json.loads(Path(asl_override or template_dir / uri).read_text())
    return packaged


def main(argv: list[str]) -> int:
    if len(argv) not in (3, 5) or (len(argv) == 5 and argv[3] != "--asl"):
        print(__doc__, file=sys.stderr)
        return 2
    template_path = Path(argv[1])
    out = Path(argv[2])
    asl_override = Path(argv[4]) if len(argv) == 5 else None
    template = yaml_parse(template_path.read_text())
    packaged = package(template, template_path.resolve().parent, asl_override)
    translated = transform(packaged, {}, NoManagedPolicies())
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(translated, indent=2, sort_keys=True))
    print(f"translated {template_path} -> {out} ({len(translated['Resources'])} CloudFormation resources)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
