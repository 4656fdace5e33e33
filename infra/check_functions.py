#!/usr/bin/env python3
"""Checks that infra/template.yaml is in step with the Rust workspace.

    python infra/check_functions.py              # check the repository
    python infra/check_functions.py --self-test  # prove each check fails on a broken template

For every crate in functions/ (a directory with a Cargo.toml):
  * exactly one AWS::Serverless::Function builds it: Metadata BuildMethod
    rust-cargolambda, BuildProperties.Binary = the crate name (which must also be
    one of the crate's binaries), CodeUri = the workspace root (`..`);
  * its Environment (Globals merged with the function's own) sets every variable
    of `atpilot_lambda::ENV` (parsed from shared/lambda/src/lib.rs), each to a
    non-empty value unless ENV describes what empty means ("(empty: ...)");
  * it sets every variable the crate's own sources read (`env::var("NAME")` or a
    `var("NAME", default)` helper in functions/<crate>/src), e.g. weekly-metrics'
    ATPILOT_ROLLOUT_DATE, and no variable outside ENV, those, and RUST_LOG.
And for the template as a whole:
  * no rust-cargolambda function builds a binary that no crate provides;
  * only the functions Autotask or a browser link must reach without AWS
    credentials (intake, approval) may have a Function URL with AuthType NONE,
    plus the dashboard, and only because it admits only people signed in with
    the MSP's OpenID provider, whose session cookies are sealed with a key the
    stack generates: its SESSION_KEY_SECRET_ARN must !Ref an
    AWS::SecretsManager::Secret with GenerateSecretString (PasswordLength >= 32)
    in this template. Anything else must use AWS_IAM.

Every failure names the function and the variable or property. Exit 1 on any.
Runs with the aws-sam-translator in .venv (for its CloudFormation YAML parser).
"""

import copy
import os
import re
import sys
import tomllib

from samtranslator.yaml_helper import yaml_parse

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
TEMPLATE = os.path.join(ROOT, "infra", "template.yaml")
FUNCTIONS = os.path.join(ROOT, "functions")
LAMBDA_LIB = os.path.join(ROOT, "shared", "lambda", "src", "lib.rs")

ALLOWED_EXTRA_ENV = {"RUST_LOG"}
PUBLIC_URL_ALLOWED = {"intake", "approval"}
# Public only behind sign-in, its cookies sealed with a key generated in this template.
SIGNIN_PROTECTED_URL = {"dashboard": "SESSION_KEY_SECRET_ARN"}
MIN_SESSION_KEY = 32
SERVERLESS_FUNCTION = "AWS::Serverless::Function"


def parse_env_table(rust_source, path=LAMBDA_LIB):
    """The names in `pub const ENV: &[(&str, &str)] = &[ ("NAME", "what"), ... ];`, and the
    subset whose description says an empty value is meaningful (`(empty: ...)`)."""
    m = re.search(r"pub\s+const\s+ENV\s*:\s*&\[\s*\(\s*&str\s*,\s*&str\s*\)\s*\]\s*=\s*&\[(.*?)\n\s*\];", rust_source, re.S)
    if not m:
        raise SystemExit(f"FAIL {path}: cannot find `pub const ENV: &[(&str, &str)] = &[...];` (did its shape change? update infra/check_functions.py)")
    body = re.sub(r"//[^\n]*", "", m.group(1))
    pairs = re.findall(r'\(\s*"([A-Za-z_][A-Za-z0-9_]*)"\s*,\s*"((?:[^"\\]|\\.)*)"\s*,?\s*\)', body)
    if not pairs:
        raise SystemExit(f"FAIL {path}: the ENV table is empty or unreadable")
    names = [n for n, _ in pairs]
    may_be_empty = {n for n, what in pairs if "(empty:" in what}
    return names, may_be_empty


CRATE_ENV_READ = re.compile(r'(?:\benv::var(?:_os)?|\bvar)\(\s*"([A-Z][A-Z0-9_]*)"')


def function_manifests(functions_dir=FUNCTIONS):
    """(directory, manifest path, parsed Cargo.toml) for every functions/<dir>/Cargo.toml, in order."""
    if not os.path.isdir(functions_dir):
        return
    for d in sorted(os.listdir(functions_dir)):
        manifest = os.path.join(functions_dir, d, "Cargo.toml")
        if os.path.isfile(manifest):
            with open(manifest, "rb") as f:
                yield os.path.join(functions_dir, d), manifest, tomllib.load(f)


def crate_env(functions_dir=FUNCTIONS):
    """{crate name: set of environment variable names its own sources read}."""
    out = {}
    for d, _, cargo in function_manifests(functions_dir):
        name = cargo.get("package", {}).get("name", os.path.basename(d))
        names = set()
        for root, _, files in os.walk(os.path.join(d, "src")):
            for fn in files:
                if fn.endswith(".rs"):
                    with open(os.path.join(root, fn), encoding="utf-8") as f:
                        names.update(CRATE_ENV_READ.findall(f.read()))
        out[name] = names
    return out


def function_crates(functions_dir=FUNCTIONS):
    """{crate name: [binary names]} for every functions/<dir>/Cargo.toml."""
    crates = {}
    for _, manifest, cargo in function_manifests(functions_dir):
        name = cargo.get("package", {}).get("name")
        if not name:
            raise SystemExit(f"FAIL {manifest}: no [package] name")
        bins = [b.get("name", name) for b in cargo.get("bin", [])] or [name]
        crates[name] = bins
    return crates


def is_empty(value):
    return value is None or (isinstance(value, str) and not value.strip())


def check(template, env_names, crates, may_be_empty=frozenset(), own_env=None):
    """Returns a list of failure messages (empty when all is well)."""
    errors = []
    resources = template.get("Resources") or {}
    g = ((template.get("Globals") or {}).get("Function") or {})
    g_vars = ((g.get("Environment") or {}).get("Variables") or {})
    g_code = g.get("CodeUri")

    by_binary = {}
    for logical, res in resources.items():
        if res.get("Type") != SERVERLESS_FUNCTION:
            continue
        meta = res.get("Metadata") or {}
        if meta.get("BuildMethod") != "rust-cargolambda":
            errors.append(f"{logical}: Metadata.BuildMethod must be rust-cargolambda (found {meta.get('BuildMethod')!r})")
            continue
        binary = (meta.get("BuildProperties") or {}).get("Binary")
        if not binary:
            errors.append(f"{logical}: Metadata.BuildProperties.Binary is not set (the crate/binary name cargo-lambda builds)")
            continue
        by_binary.setdefault(binary, []).append(logical)

    for crate, bins in sorted(crates.items()):
        logicals = by_binary.get(crate, [])
        if not logicals:
            errors.append(f"function crate '{crate}' (functions/): no {SERVERLESS_FUNCTION} in infra/template.yaml has Metadata.BuildProperties.Binary: {crate}")
            continue
        if len(logicals) > 1:
            errors.append(f"function crate '{crate}': built by several resources ({', '.join(logicals)}); expected exactly one")
        if crate not in bins:
            errors.append(f"function crate '{crate}': it has no binary named '{crate}' (binaries: {', '.join(bins)}); Binary must name the bootstrap cargo-lambda builds")
        for logical in logicals:
            props = resources[logical].get("Properties") or {}
            code = props.get("CodeUri", g_code)
            if code not in ("..", "../", "../."):
                errors.append(f"{logical} (function '{crate}'): CodeUri must be the workspace root '..' for rust-cargolambda builds (found {code!r})")
            f_vars = ((props.get("Environment") or {}).get("Variables") or {})
            merged = dict(g_vars)
            merged.update(f_vars)
            own = set((own_env or {}).get(crate, set())) - set(env_names)
            for name in sorted(own):
                if name not in merged:
                    errors.append(f"{logical} (function '{crate}'): environment variable {name} is not set (functions/{crate}/src reads it); set it on the function")
            for name in env_names:
                if name not in merged:
                    errors.append(f"{logical} (function '{crate}'): environment variable {name} is not set (atpilot_lambda::ENV reads it); set it in Globals.Function.Environment or on the function")
                elif is_empty(merged[name]) and name not in may_be_empty:
                    errors.append(f"{logical} (function '{crate}'): environment variable {name} is set to an empty value")
            for name in sorted(merged):
                if name not in env_names and name not in ALLOWED_EXTRA_ENV and name not in own:
                    errors.append(f"{logical} (function '{crate}'): environment variable {name} is not in atpilot_lambda::ENV (shared/lambda/src/lib.rs) nor RUST_LOG: add it to ENV with what it holds, or remove it")

    for binary, logicals in sorted(by_binary.items()):
        if binary not in crates:
            errors.append(f"{', '.join(logicals)}: builds binary '{binary}', but there is no functions/{binary}/Cargo.toml with that crate name")

    for logical, res in resources.items():
        if res.get("Type") != SERVERLESS_FUNCTION:
            continue
        url = (res.get("Properties") or {}).get("FunctionUrlConfig")
        if not url:
            continue
        binary = ((res.get("Metadata") or {}).get("BuildProperties") or {}).get("Binary", logical)
        auth = url.get("AuthType")
        if auth == "NONE" and binary in SIGNIN_PROTECTED_URL:
            var = SIGNIN_PROTECTED_URL[binary]
            f_vars = (((res.get("Properties") or {}).get("Environment") or {}).get("Variables") or {})
            ref = f_vars.get(var, g_vars.get(var))
            target = ref.get("Ref") if isinstance(ref, dict) else None
            secret = resources.get(target) or {} if target else {}
            gen = (secret.get("Properties") or {}).get("GenerateSecretString") or {}
            length = gen.get("PasswordLength", 32)
            if secret.get("Type") != "AWS::SecretsManager::Secret" or not gen or not isinstance(length, int) or length < MIN_SESSION_KEY:
                errors.append(f"{logical} (function '{binary}'): FunctionUrlConfig.AuthType is NONE, so {var} must !Ref an AWS::SecretsManager::Secret of this template with GenerateSecretString (PasswordLength >= {MIN_SESSION_KEY}); found {ref!r}")
        elif auth == "NONE" and binary not in PUBLIC_URL_ALLOWED:
            errors.append(f"{logical} (function '{binary}'): FunctionUrlConfig.AuthType is NONE; only {sorted(PUBLIC_URL_ALLOWED)} may be public, use AWS_IAM")
        elif auth not in ("NONE", "AWS_IAM"):
            errors.append(f"{logical} (function '{binary}'): FunctionUrlConfig.AuthType must be NONE or AWS_IAM (found {auth!r})")
    return errors


def load_template(path=TEMPLATE):
    with open(path, encoding="utf-8") as f:
        return yaml_parse(f.read())


def self_test(template, env_names, crates):
    """Each broken variant must fail with a message naming the function and the variable."""
    def first_fn(t, binary):
        return next(l for l, r in t["Resources"].items() if r.get("Type") == SERVERLESS_FUNCTION and r["Metadata"]["BuildProperties"]["Binary"] == binary)

    cases = []
    crate = sorted(crates)[0]
    var = env_names[0]

    t = copy.deepcopy(template)
    del t["Globals"]["Function"]["Environment"]["Variables"][var]
    cases.append(("a variable missing from Globals", t, crates, [var, crate]))

    t = copy.deepcopy(template)
    fn = first_fn(t, crate)
    t["Resources"][fn]["Properties"].setdefault("Environment", {}).setdefault("Variables", {})["SURPRISE_VAR"] = "x"
    cases.append(("a variable outside ENV", t, crates, ["SURPRISE_VAR", fn]))

    t = copy.deepcopy(template)
    fn = first_fn(t, crate)
    t["Resources"][fn]["Properties"].setdefault("Environment", {}).setdefault("Variables", {})[var] = ""
    cases.append(("an empty variable", t, crates, [var, fn]))

    t = copy.deepcopy(template)
    del t["Resources"][first_fn(t, crate)]
    cases.append(("a crate without a resource", t, crates, [crate]))

    c = dict(crates)
    c["brand-new-fn"] = ["brand-new-fn"]
    cases.append(("a new crate not in the template", copy.deepcopy(template), c, ["brand-new-fn"]))

    t = copy.deepcopy(template)
    fn = first_fn(t, crate)
    t["Resources"][fn]["Metadata"]["BuildProperties"]["Binary"] = "no-such-crate"
    cases.append(("a resource building a missing crate", t, crates, ["no-such-crate", fn]))

    t = copy.deepcopy(template)
    fn = first_fn(t, crate)
    t["Resources"][fn]["Properties"]["CodeUri"] = "../functions/" + crate
    cases.append(("a CodeUri that is not the workspace root", t, crates, ["CodeUri", fn]))

    t = copy.deepcopy(template)
    t["Resources"]["AuditFunction"]["Properties"]["FunctionUrlConfig"] = {"AuthType": "NONE"}
    cases.append(("a public audit URL", t, crates, ["AuditFunction", "AuthType is NONE"]))

    t = copy.deepcopy(template)
    t["Globals"]["Function"]["Environment"]["Variables"]["SESSION_KEY_SECRET_ARN"] = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:handmade"
    cases.append(("a public dashboard without the generated session key", t, crates, ["DashboardFunction", "SESSION_KEY_SECRET_ARN", "GenerateSecretString"]))

    t = copy.deepcopy(template)
    t["Resources"]["SessionKey"]["Properties"]["GenerateSecretString"]["PasswordLength"] = 16
    cases.append(("a public dashboard with a short generated session key", t, crates, ["DashboardFunction", "PasswordLength"]))

    own_cases = []
    own_cases.append(("a variable the crate's own code reads, not set", copy.deepcopy(template), crates, {crate: {"ATPILOT_SELF_TEST_ONLY"}}, ["ATPILOT_SELF_TEST_ONLY", crate]))

    failed = 0
    for what, t, c, must_mention in cases:
        own_cases.append((what, t, c, None, must_mention))
    for what, t, c, own, must_mention in own_cases:
        errors = check(t, env_names, c, own_env=own)
        hit = [e for e in errors if all(m in e for m in must_mention)]
        if hit:
            print(f"ok   self-test: {what}: {hit[0]}")
        else:
            failed += 1
            print(f"FAIL self-test: {what}: expected an error mentioning {must_mention}, got {errors}")
    return failed


def main(argv):
    with open(LAMBDA_LIB, encoding="utf-8") as f:
        env_names, may_be_empty = parse_env_table(f.read())
    crates = function_crates()
    if not crates:
        print(f"FAIL {FUNCTIONS}: no function crates found")
        return 1
    template = load_template()
    if "--self-test" in argv[1:]:
        return 1 if self_test(template, env_names, crates) else 0
    own = crate_env()
    errors = check(template, env_names, crates, may_be_empty, own)
    for e in errors:
        print(f"FAIL {e}")
    if errors:
        print(f"check_functions: {len(errors)} problem(s) in infra/template.yaml")
        return 1
    print(f"check_functions: {len(crates)} function crates ({', '.join(sorted(crates))}) each have one resource; "
          f"each sets the {len(env_names)} variables of atpilot_lambda::ENV ({', '.join(env_names)}), the variables its own code reads "
          f"({'; '.join(f'{c}: ' + ', '.join(sorted(v - set(env_names))) for c, v in sorted(own.items()) if v - set(env_names)) or 'none'}), and nothing else but RUST_LOG")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
