#!/usr/bin/env python3
"""Writes the sample events in this directory, deterministically (no randomness, no clock).

    python3 events/make_events.py           # rewrite the four JSON files
    python3 events/make_events.py --check   # exit 1 if a file differs from what this script writes

The intake event's X-Hook-Signature is computed here, as Autotask does:
`sha1=` + base64(HMAC-SHA1(key = the webhook secret, message = the raw body)),
with the secret `sample-webhook-secret`. The SQS records carry the real MD5 of
their bodies, FIFO attributes (MessageGroupId = `ticket-<id>`, and the
de-duplication ids intake and classify use) and shapes as Lambda delivers them.
"""

import base64
import datetime
import hashlib
import hmac
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
WEBHOOK_SECRET = b"sample-webhook-secret"
ACCOUNT = "123456789012"
REGION = "us-east-1"
STACK = "atpilot"


def compact(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=True)


def sign(secret, body):
    return "sha1=" + base64.b64encode(hmac.new(secret, body, hashlib.sha1).digest()).decode()


def intake_function_url_base64():
    # The same signed callout, its body base64-encoded by Lambda: the signature covers the decoded bytes.
    event = intake_function_url()
    event["body"] = base64.b64encode(event["body"].encode()).decode()
    event["isBase64Encoded"] = True
    return event


APPROVAL_ID = "act-0123456789abcdef01234567"


def approval_form_post_function_url():
    # The approver's browser posting the confirmation page's form to the approval Function URL
    # (`{ApprovalUrl}/{id}`); Lambda delivers the form body base64-encoded. The token is a
    # placeholder: the test that uses this sample signs a real one.
    body = "t=SAMPLE-TOKEN&decision=approve"
    ua = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
    return function_url_request(
        url_id="a2p4p6r8o0v2a4l6u8r0l2i4d6e8x0a2",
        method="POST",
        headers={
            "content-length": str(len(body)),
            "content-type": "application/x-www-form-urlencoded",
            "origin": "https://a2p4p6r8o0v2a4l6u8r0l2i4d6e8x0a2.lambda-url.us-east-1.on.aws",
            "sec-fetch-mode": "navigate",
        },
        source_ip="81.2.69.160",
        user_agent=ua,
        trace="Root=1-6748405c-1b3d5f7a9c1e3a5b7d9f1b3d",
        request_id="5d7f9b1c-3e5a-4c7e-9a1b-3d5f7b9d1f24",
        time_epoch_ms=1795860600000,
        body=body,
        path=f"/{APPROVAL_ID}",
        base64_body=True,
    )


def intake_function_url():
    # A ticket Create callout as Autotask sends it: PascalCase top level, REST field
    # names inside Fields, compact JSON (System.Text.Json), plain ASCII.
    body = compact({
        "Action": "Create",
        "Guid": "6f1c2a9e-3b7d-4e8a-9c51-2d7f0e4b8a13",
        "EntityType": "Ticket",
        "Id": 12345,
        "Fields": {
            "id": 12345,
            "ticketNumber": "T20261128.0042",
            "title": "Password reset for j.smith",
            "description": "User j.smith is locked out of Microsoft 365 after too many sign-in attempts. Please reset the password.",
            "companyID": 174,
            "contactID": 30512,
            "queueID": 29682833,
            "status": 1,
            "priority": 2,
            "source": 4,
            "createDate": "2026-11-28T09:59:58.873Z",
        },
        "EventTime": "2026-11-28T10:00:00.0000000Z",
        "SequenceNumber": 1,
        "PersonID": 29682886,
    })
    raw = body.encode()
    return function_url_request(
        url_id="k7x2q9w4mzr3v8n5t1b6c0d2e4f6g8h0",
        method="POST",
        headers={
            "content-length": str(len(raw)),
            "content-type": "application/json; charset=utf-8",
            "x-hook-signature": sign(WEBHOOK_SECRET, raw),
        },
        source_ip="52.14.83.201",
        user_agent="",
        trace="Root=1-6748405c-2f0b8d6e4a1c3e5f7a9b1d3f",
        request_id="3c8e5b1a-7f2d-4e9a-b6c4-1d0f2a8e7b35",
        time_epoch_ms=1795860000000,
        body=body,
    )


def function_url_request(url_id, method, headers, source_ip, user_agent, trace, request_id, time_epoch_ms, body=None,
                         path="/", base64_body=False):
    # A Lambda Function URL request (payload format 2.0) to `path`, over HTTPS; with
    # `base64_body` the body arrives base64-encoded, as Lambda sends non-text bodies (form posts).
    host = f"{url_id}.lambda-url.{REGION}.on.aws"
    when = datetime.datetime.fromtimestamp(time_epoch_ms / 1000, datetime.timezone.utc)
    all_headers = dict(headers)
    all_headers.update({
        "host": host,
        "x-amzn-tls-cipher-suite": "TLS_AES_128_GCM_SHA256",
        "x-amzn-tls-version": "TLSv1.3",
        "x-amzn-trace-id": trace,
        "x-forwarded-for": source_ip,
        "x-forwarded-port": "443",
        "x-forwarded-proto": "https",
    })
    if user_agent:
        all_headers["user-agent"] = user_agent
    event = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": dict(sorted(all_headers.items())),
        "requestContext": {
            "accountId": "anonymous",
            "apiId": url_id,
            "domainName": host,
            "domainPrefix": url_id,
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": source_ip, "userAgent": user_agent},
            "requestId": request_id,
            "routeKey": "$default",
            "stage": "$default",
            "time": when.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": time_epoch_ms,
        },
    }
    if body is not None:
        event["body"] = base64.b64encode(body.encode()).decode() if base64_body else body
    event["isBase64Encoded"] = base64_body
    return event


def dashboard_function_url():
    # A browser opening the dashboard's Function URL without a session: sent to sign in.
    ua = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
    return function_url_request(
        url_id="d4s8h2b6o0a4r8d2u6r0l4i8d2e6x0a4",
        method="GET",
        headers={
            "accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            "accept-language": "en-GB,en;q=0.9",
            "sec-fetch-dest": "document",
            "sec-fetch-mode": "navigate",
            "sec-fetch-site": "none",
        },
        source_ip="81.2.69.160",
        user_agent=ua,
        trace="Root=1-6748405c-7a1b3c5d7e9f1a3b5c7d9e1f",
        request_id="8e2b4d6f-1a3c-4e5a-9b7d-2f4a6c8e0b13",
        time_epoch_ms=1795860300000,
    )


def audit_invoke():
    # `aws lambda invoke --function-name <stack>-audit --payload file://events/audit-invoke.json out.json`
    return {"since": "90d", "history_sample": 500, "model_sample": 3000}


def audit_schedule():
    # The weekly rule's scheduled event: the audit runs with its defaults (90 days).
    return {
        "version": "0",
        "id": "2c7d9e1f-3a5b-4c6d-8e0f-1a2b3c4d5e6f",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": "2026-11-30T05:00:00Z",
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{STACK}-AuditFunctionWeekly-3D4F5G6H7J8K"],
        "detail": {},
    }


def sqs_fifo_record(body, queue, group_id, dedup_id, message_id, sequence_number, sent_ms):
    return {
        "messageId": message_id,
        "receiptHandle": "AQEB" + base64.b64encode(hashlib.sha256(message_id.encode()).digest() * 4).decode(),
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": str(sent_ms),
            "SequenceNumber": sequence_number,
            "MessageGroupId": group_id,
            "SenderId": "AROA3EXAMPLEROLEID1234:atpilot-intake",
            "MessageDeduplicationId": dedup_id,
            "ApproximateFirstReceiveTimestamp": str(sent_ms + 37),
        },
        "messageAttributes": {},
        "md5OfBody": hashlib.md5(body.encode()).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{queue}",
        "awsRegion": REGION,
    }


def classify_sqs():
    # The TicketEvent intake enqueues (shared/agent/src/messages.rs), serialized as serde does.
    event = {
        "ticket_id": 12345,
        "event_key": "guid:12345:1",
        "source": "create",
        "changed_fields": [],
        "fields": {},
        "person_id": 29682886,
        "received_at": "2026-11-28T10:00:00Z",
    }
    body = compact(event)
    # intake de-duplicates on the SHA-256 of the event key.
    dedup = hashlib.sha256(event["event_key"].encode()).hexdigest()
    rec = sqs_fifo_record(body, f"{STACK}-ClassifyQueue-Xk3bT9qLm2Wd.fifo", "ticket-12345", dedup,
                          "0e5f3a6b-8c1d-4b7e-9a2f-5c8d1e3b7a90", "18891284521638914048", 1795860000412)
    return {"Records": [rec]}


def time_entry_sqs():
    # The TimeEntryJob classify (or approval) enqueues; de-duplicated on the action id.
    job = {
        "action_id": "act-0123456789abcdef01234567",
        "ticket_id": 12345,
        "contract_id": 77,
        "contract_kind": "recurring_service",
        "category": "password-reset",
        "span": {"start": "2026-11-28T10:00:00Z", "end": "2026-11-28T10:00:08Z"},
        "summary": "Reset the Microsoft 365 password of j.smith and sent the temporary credentials to the contact on file (approved by ana@msp.example).",
        "complete_after": False,
    }
    body = compact(job)
    rec = sqs_fifo_record(body, f"{STACK}-TimeEntryQueue-Pq7vN2sHc5Ry.fifo", "ticket-12345", job["action_id"],
                          "7a1d9c4e-2b6f-4e83-a5d0-9f3c8b2e6d17", "18891284523754496000", 1795860009118)
    rec["attributes"]["SenderId"] = "AROA3EXAMPLEROLEID5678:atpilot-classify"
    return {"Records": [rec]}


def ses_delivery_event():
    # SES's report that an approval request e-mail reached the approver's mail server, through
    # the configuration set's EventBridge destination (the template's SesEventsRule, to the reconciler).
    message_id = "010001937a4b2c3d-5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9-000000"
    return {
        "version": "0",
        "id": "3f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0",
        "detail-type": "Email Delivered",
        "source": "aws.ses",
        "account": ACCOUNT,
        "time": "2026-11-28T10:05:03Z",
        "region": REGION,
        "resources": [f"arn:aws:ses:{REGION}:{ACCOUNT}:configuration-set/atpilot"],
        "detail": {
            "eventType": "Delivery",
            "mail": {
                "timestamp": "2026-11-28T10:05:01.512Z",
                "source": "atpilot@msp.example",
                "sendingAccountId": ACCOUNT,
                "messageId": message_id,
                "destination": ["dispatch@msp.example"],
                "headersTruncated": False,
                "tags": {"ses:configuration-set": ["atpilot"], "ses:source-ip": ["52.94.0.10"]},
            },
            "delivery": {
                "timestamp": "2026-11-28T10:05:02.948Z",
                "processingTimeMillis": 1436,
                "recipients": ["dispatch@msp.example"],
                "smtpResponse": "250 2.6.0 <" + message_id + "@email.amazonses.com> Queued mail for delivery",
                "reportingMTA": "a8-12.smtp-out.amazonses.com",
            },
        },
    }


def reconciler_schedule():
    # An EventBridge rule's scheduled event (the template's `Type: Schedule`).
    return {
        "version": "0",
        "id": "9d4c2f7e-1a3b-4c5d-8e6f-0a1b2c3d4e5f",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": "2026-11-28T10:10:00Z",
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{STACK}-ReconcilerFunctionEvery10Minutes-1Q2W3E4R5T6Y"],
        "detail": {},
    }


def weekly_metrics_schedule():
    # The Monday rule's scheduled event; `detail` may carry {"week_ending": "YYYY-MM-DD", "resend": true}
    # for a rerun by hand, and is empty when the schedule fires.
    return {
        "version": "0",
        "id": "4b8e1c2d-6f3a-4d9b-a7e5-2c1f0d9b8a76",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": "2026-11-30T06:00:00Z",
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{STACK}-WeeklyMetricsFunctionWeekly-7U8I9O0P1A2S"],
        "detail": {},
    }


FILES = {
    "intake-function-url.json": intake_function_url,
    "intake-function-url-base64.json": intake_function_url_base64,
    "approval-form-post-function-url.json": approval_form_post_function_url,
    "classify-sqs.json": classify_sqs,
    "time-entry-sqs.json": time_entry_sqs,
    "reconciler-schedule.json": reconciler_schedule,
    "ses-delivery-event.json": ses_delivery_event,
    "weekly-metrics-schedule.json": weekly_metrics_schedule,
    "dashboard-function-url.json": dashboard_function_url,
    "audit-invoke.json": audit_invoke,
    "audit-schedule.json": audit_schedule,
}


def main(argv):
    check = "--check" in argv[1:]
    bad = 0
    for name, make in FILES.items():
        text = json.dumps(make(), indent=2, ensure_ascii=True) + "\n"
        path = os.path.join(HERE, name)
        if check:
            with open(path, encoding="utf-8") as f:
                if f.read() != text:
                    print(f"{path}: differs from what events/make_events.py writes")
                    bad = 1
        else:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
            print(f"wrote {path}")
    # Self-check: the intake signature verifies over the body exactly as stored.
    ev = intake_function_url()
    assert hmac.compare_digest(ev["headers"]["x-hook-signature"], sign(WEBHOOK_SECRET, ev["body"].encode()))
    return bad


if __name__ == "__main__":
    sys.exit(main(sys.argv))
