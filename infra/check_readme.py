#!/usr/bin/env python3
"""Checks that the README's counts of the deployed stack match infra/template.yaml.

    python infra/check_readme.py

What the README says, against the template (parsed with aws-sam-translator's
CloudFormation YAML parser, in .venv):
  * "the <N> functions (<names>)" and the layout line of functions/: the
    AWS::Serverless::Function resources' binaries and the crates in functions/;
  * "<N> CloudWatch alarms" and the cost table's alarm row (N × $0.10);
  * "reserve <N> executions": the sum of the *ReservedConcurrency defaults, and
    "all <N> `*ReservedConcurrency` parameters";
  * the cost table's secrets: the required *SecretArn parameters and the secrets the stack creates;
  * every template parameter has a row in the parameter table, showing its default;
  * the cost table's total is the sum of its rows (to 5 cents).
Every mismatch names the README's words and the template's figure. Exit 1 on any.
"""

import os
import re
import sys

from samtranslator.yaml_helper import yaml_parse

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"]


def number(word):
    return WORDS.index(word) if word in WORDS else int(word)


def main():
    readme = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    template = yaml_parse(open(os.path.join(ROOT, "infra", "template.yaml"), encoding="utf-8").read())
    resources, params = template["Resources"], template["Parameters"]
    functions = [
        r["Metadata"]["BuildProperties"]["Binary"] for r in resources.values() if r["Type"] == "AWS::Serverless::Function"
    ]
    crates = sorted(d for d in os.listdir(os.path.join(ROOT, "functions")) if os.path.exists(os.path.join(ROOT, "functions", d, "Cargo.toml")))
    alarms = sum(1 for r in resources.values() if r["Type"] == "AWS::CloudWatch::Alarm")
    reserved = {k: int(v["Default"]) for k, v in params.items() if k.endswith("ReservedConcurrency")}
    errors = []

    def expect(pattern, check, what):
        found = re.findall(pattern, readme, flags=re.S)
        if not found:
            errors.append(f"README: no text matches {pattern!r} ({what})")
        for f in found:
            problem = check(f)
            if problem:
                errors.append(f"README: {what}: {problem}")

    def names(listed):
        return sorted(n.strip() for n in re.sub(r"\s+", " ", listed).split(","))

    expect(
        r"the\s+(\w+)\s+functions\s+\(([^)]*)\)",
        lambda f: None
        if number(f[0]) == len(functions) and names(f[1]) == sorted(functions)
        else f"says {f[0]} functions ({', '.join(names(f[1]))}); the template has {len(functions)}: {', '.join(sorted(functions))}",
        "the stack's functions",
    )
    expect(
        r"one thin Lambda binary per function: ([a-z, -]+)",
        lambda f: None if names(f) == crates else f"lists {names(f)}; functions/ holds {crates}",
        "the layout of functions/",
    )
    expect(
        r"(\d+) CloudWatch alarms",
        lambda f: None if int(f) == alarms else f"says {f} CloudWatch alarms; the template has {alarms}",
        "the alarm count",
    )
    expect(
        r"\| CloudWatch alarms \| (\d+) × \$0\.10 \| \$([0-9.]+) \|",
        lambda f: None
        if int(f[0]) == alarms and abs(float(f[1]) - alarms * 0.10) < 0.005
        else f"costs {f[0]} alarms at ${f[1]}; the template has {alarms} (${alarms * 0.10:.2f})",
        "the alarms' cost",
    )
    expect(
        r"reserve (\d+) executions",
        lambda f: None
        if int(f) == sum(reserved.values())
        else f"says the caps reserve {f}; the defaults sum to {sum(reserved.values())} ({reserved})",
        "reserved concurrency",
    )
    expect(
        r"all (\w+) `\*ReservedConcurrency` parameters",
        lambda f: None if number(f) == len(reserved) else f"says {f} parameters; the template has {len(reserved)}",
        "the reserved-concurrency parameters",
    )
    required_secrets = [k for k, v in params.items() if k.endswith("SecretArn") and "Default" not in v]
    stack_secrets = sum(1 for r in resources.values() if r["Type"] == "AWS::SecretsManager::Secret")
    secrets = len(required_secrets) + stack_secrets
    expect(
        r"\| Secrets Manager \| (\d+) secrets [^|]*× \$0\.40[^|]*\| \$([0-9.]+) \|",
        lambda f: None
        if int(f[0]) == secrets and float(f[1]) >= secrets * 0.40 - 0.005
        else f"costs {f[0]} secrets at ${f[1]}; the template needs {secrets} ({', '.join(required_secrets)} and {stack_secrets} it creates)",
        "the secrets' cost",
    )
    for name, p in params.items():
        row = re.search(r"^\| `" + re.escape(name) + r"` \| ([^|]*) \|", readme, flags=re.M)
        if not row:
            errors.append(f"README: the parameter table has no row for {name}")
        elif "Default" in p and str(p["Default"]) != "" and row.group(1).strip() != f"`{p['Default']}`":
            errors.append(f"README: {name} shows default {row.group(1).strip()}; the template's is `{p['Default']}`")
    table = re.search(r"\| service \| arithmetic \| per month \|\n\|---\|---\|---\|\n(.*?)\n\| \*\*total\*\* \| \| \*\*≈ \$([0-9.]+)\*\* \|", readme, flags=re.S)
    if not table:
        errors.append("README: the monthly cost table is not found")
    else:
        cells = [re.findall(r"\| \$([0-9.]+) \|$|\| < \$[0-9.]+ \|$", line) for line in table.group(1).splitlines()]
        total = sum(float(c[0]) for c in cells if c and c[0])
        if abs(total - float(table.group(2))) > 0.05:
            errors.append(f"README: the cost table's total says ≈ ${table.group(2)}; its rows sum to ${total:.2f}")
    for e in errors:
        print(e)
    if errors:
        return 1
    print(
        f"README matches the template: {len(functions)} functions, {alarms} alarms, "
        f"{len(reserved)} reserved-concurrency parameters reserving {sum(reserved.values())}, {len(params)} parameters"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
