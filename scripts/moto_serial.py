"""moto in server mode, handling one request at a time.

Real DynamoDB applies each write (a conditional put, an ADD) atomically.
moto's DynamoDB backend has no locks and its stock server is threaded, so
concurrent conditional writes can interleave there in ways DynamoDB never
allows. scripts/test points the DynamoDB client at this serialized instance
(AWS_ENDPOINT_URL_DYNAMODB) so the contention tests check the adapter, not
the emulator's races; SQS and SES use the stock threaded server (long polls).

Usage: python moto_serial.py HOST PORT
"""
import sys

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import run_simple

host, port = sys.argv[1], int(sys.argv[2])
run_simple(host, port, DomainDispatcherApplication(create_backend_app), threaded=False, request_handler=MotoRequestHandler)
