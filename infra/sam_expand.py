#!/usr/bin/env python3
"""Expands the SAM transform of infra/template.yaml offline, into plain CloudFormation JSON.

    AWS_DEFAULT_REGION=us-east-1 python infra/sam_expand.py infra/template.yaml build/infra/expanded.json

Why: cfn-lint 1.x no longer runs the SAM transform, so it passes SAM resources with
bad runtimes, architectures or event types. The translator rejects unknown SAM
properties itself, and cfn-lint then checks the generated resources
(../shared/reference/local-aws.md, section 4).

No network and no credentials: managed-policy names are never looked up (the
template uses explicit roles), and every CodeUri (and layer ContentUri) is
replaced by an S3 placeholder, as `sam package` would do after uploading the build.
"""

import json
import os
import sys

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

from samtranslator.model.exceptions import InvalidDocumentException  # noqa: E402
from samtranslator.translator.transform import transform  # noqa: E402
from samtranslator.yaml_helper import yaml_parse  # noqa: E402

PLACEHOLDER_CODE = {"Bucket": "atpilot-build-placeholder", "Key": "bootstrap.zip"}


class NoNetworkPolicyLoader:
    """Answers the translator's managed-policy lookups without calling IAM."""

    def load(self):
        return {}


def main(argv):
    if len(argv) != 3:
        print(f"usage: {argv[0]} TEMPLATE.yaml OUT.json", file=sys.stderr)
        return 2
    src, out = argv[1], argv[2]
    with open(src, encoding="utf-8") as f:
        template = yaml_parse(f.read())
    for name, res in (template.get("Resources") or {}).items():
        if res.get("Type") == "AWS::Serverless::Function" and "CodeUri" in res.get("Properties", {}):
            res["Properties"]["CodeUri"] = dict(PLACEHOLDER_CODE)
        if res.get("Type") == "AWS::Serverless::LayerVersion" and "ContentUri" in res.get("Properties", {}):
            res["Properties"]["ContentUri"] = dict(PLACEHOLDER_CODE)
    try:
        expanded = transform(template, {}, NoNetworkPolicyLoader())
    except InvalidDocumentException as e:
        print(f"{src}: the SAM transform failed:", file=sys.stderr)
        for cause in e.causes:
            print(f"  - {cause.message}", file=sys.stderr)
        return 1
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w", encoding="utf-8") as f:
        json.dump(expanded, f, indent=2, sort_keys=False)
        f.write("\n")
    kinds = {}
    for res in expanded.get("Resources", {}).values():
        kinds[res["Type"]] = kinds.get(res["Type"], 0) + 1
    summary = ", ".join(f"{n} {t}" for t, n in sorted(kinds.items()))
    print(f"expanded {src} -> {out}: {sum(kinds.values())} resources ({summary})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
