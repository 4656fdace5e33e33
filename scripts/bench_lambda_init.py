"""Starts each function binary against a local stand-in for the Lambda
Runtime API and prints its init time (process start -> first
`GET /runtime/invocation/next`) and its memory at that point.

Secrets Manager, DynamoDB and SQS are moto (started by scripts/bench-lambda-init);
init reads the secrets and builds every client, as in AWS.

Usage: python bench_lambda_init.py MOTO_URL BINARY...
"""
import http.server, json, os, subprocess, sys, threading, time

import boto3

moto = sys.argv[1]
binaries = sys.argv[2:]

sm = boto3.client("secretsmanager", endpoint_url=moto, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
def secret(name, value):
    try:
        return sm.create_secret(Name=name, SecretString=value)["ARN"]
    except sm.exceptions.ResourceExistsException:
        return sm.describe_secret(SecretId=name)["ARN"]

arns = {
    "AUTOTASK_CREDENTIALS_SECRET_ARN": secret("atpilot/autotask", json.dumps({"username": "api@msp.example", "secret": "s", "integration_code": "C"})),
    "WEBHOOK_SECRET_ARN": secret("atpilot/webhook", "a-webhook-secret-of-32-characters"),
    "APPROVAL_KEY_SECRET_ARN": secret("atpilot/approval-key", "k" * 48),
    "TEAMS_WEBHOOK_SECRET_ARN": secret("atpilot/teams", "https://example.webhook.office.com/webhookb2/x"),
}
config = open(os.path.join(os.path.dirname(__file__), "..", "atpilot.example.toml")).read().replace('url = "sandbox"', 'url = "https://webservices5.autotask.net/atservicesrest"')

first_next = {}
class Runtime(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass
    def do_GET(self):
        if self.path.endswith("/runtime/invocation/next"):
            first_next.setdefault("t", time.perf_counter())
            # Hold the long poll: no invocation is ever sent.
            time.sleep(30)
        self.send_response(404)
        self.end_headers()
    def do_POST(self):
        first_next.setdefault("error", self.path)
        self.send_response(202)
        self.end_headers()

def rss_mb(pid, field):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")

print(f"{'function':<16} {'init (ms)':>10} {'RSS (MB)':>9} {'peak RSS (MB)':>14}   goals: init < 50 ms, < 40 MB")
worst = 0
for binary in binaries:
    name = os.path.basename(os.path.dirname(binary)) if binary.endswith("bootstrap") else os.path.basename(binary)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Runtime)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    first_next.clear()
    env = dict(os.environ, **arns,
               AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{server.server_address[1]}", AWS_LAMBDA_FUNCTION_NAME=f"atpilot-{name}",
               AWS_LAMBDA_FUNCTION_MEMORY_SIZE="256", AWS_LAMBDA_FUNCTION_VERSION="$LATEST", AWS_LAMBDA_LOG_GROUP_NAME=f"/aws/lambda/atpilot-{name}",
               AWS_LAMBDA_LOG_STREAM_NAME="bench", AWS_ENDPOINT_URL=moto, AWS_REGION="us-east-1", AWS_ACCESS_KEY_ID="test",
               AWS_SECRET_ACCESS_KEY="test", AWS_EC2_METADATA_DISABLED="true", ATPILOT_CONFIG=config, TABLE_NAME="atpilot",
               CLASSIFY_QUEUE_URL=f"{moto}/123456789012/classify.fifo", TIME_ENTRY_QUEUE_URL=f"{moto}/123456789012/time-entry.fifo",
               SES_CONFIGURATION_SET="", ATPILOT_ROLLOUT_DATE="2026-09-01", RUST_LOG="warn")
    start = time.perf_counter()
    p = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    while "t" not in first_next and "error" not in first_next and p.poll() is None and time.perf_counter() - start < 10:
        time.sleep(0.0005)
    if "t" in first_next:
        init_ms = (first_next["t"] - start) * 1000
        print(f"{name:<16} {init_ms:>10.1f} {rss_mb(p.pid, 'VmRSS'):>9.1f} {rss_mb(p.pid, 'VmHWM'):>14.1f}")
        worst = max(worst, init_ms)
    else:
        p.kill()
        err = p.stderr.read().decode(errors="replace")[-600:]
        print(f"{name:<16} init failed: {first_next.get('error', 'no /next request')} {err}")
    p.kill()
    p.wait()
    server.shutdown()
