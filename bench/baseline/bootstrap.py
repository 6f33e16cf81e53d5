"""A minimal Lambda custom runtime in the standard library only: import the handler named
by _HANDLER (init), then loop on the Runtime API: GET invocation/next, call the handler,
POST its result to invocation/{id}/response (or its exception to .../error). It stands in
for AWS's Python runtime so the baseline runs under the same emulator as taskapi-lambda.
"""
import http.client
import importlib
import json
import os
import sys
import traceback

PREFIX = '/2018-06-01/runtime'


def main():
    sys.path.insert(0, os.environ.get('LAMBDA_TASK_ROOT', os.path.dirname(__file__)))
    module_name, function_name = os.environ['_HANDLER'].rsplit('.', 1)
    handler = getattr(importlib.import_module(module_name), function_name)
    host, port = os.environ['AWS_LAMBDA_RUNTIME_API'].split(':')
    # One kept-alive connection, as AWS's runtime interface client holds one.
    api = http.client.HTTPConnection(host, int(port))
    while True:
        api.request('GET', f'{PREFIX}/invocation/next')
        response = api.getresponse()
        request_id = response.getheader('Lambda-Runtime-Aws-Request-Id')
        event = json.loads(response.read())
        try:
            path, body = 'response', json.dumps(handler(event, None))
        except Exception as error:  # reported to the Runtime API, as AWS's runtime does
            path = 'error'
            body = json.dumps({
                'errorMessage': str(error),
                'errorType': type(error).__name__,
                'stackTrace': traceback.format_exc().splitlines(),
            })
        api.request('POST', f'{PREFIX}/invocation/{request_id}/{path}', body,
                    {'Content-Type': 'application/json'})
        api.getresponse().read()


if __name__ == '__main__':
    main()
