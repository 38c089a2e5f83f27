"""Schemathesis hooks for .ci/schemathesis.

The fuzzer acts as one administrator with one API token. Left alone it soon finds that user's own
id (GET /api/v1/users) and token id (GET /api/v1/me/tokens) and, quite rightly, disables the
account, resets its password or revokes the token, after which every request is refused with 401
and nothing more is tested. A change aimed at either id is sent to a fresh random id instead (a 404,
which the document describes); reads of them are left alone.
"""

import os
import uuid

import schemathesis

PROTECTED = {os.environ["HOMEWARD_FUZZ_USER_ID"], os.environ["HOMEWARD_FUZZ_TOKEN_ID"]}


@schemathesis.hook
def before_call(context, case, kwargs):
    if case.method.upper() == "GET" or not case.path_parameters:
        return
    for name, value in list(case.path_parameters.items()):
        if str(value) in PROTECTED:
            case.path_parameters[name] = str(uuid.uuid4())
