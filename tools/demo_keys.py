"""Keys for `make run`: written once to a git-ignored file in the working directory.

`make run` serves with DEBUG off, as a deployment does, so it should not sign sessions with
the development key printed in settings.py. On its first run this writes `.demo-keys.env`
with a fresh SECRET_KEY and FIELD_ENCRYPTION_KEY, as shell assignments that keep any value
already set in the environment; `make run` sources it. A demo database made before the file
existed holds numbers encrypted with the development field key: then that key is written, so
the demo keeps working (delete db.sqlite3 and the file to start afresh with a random one).

Usage: python tools/demo_keys.py PATH [DATABASE_FILE]
"""

import base64
import os
import secrets
import sys
from pathlib import Path

DEV_FIELD_KEY = "eWlubGluZy1kZXYtb25seS1maWVsZC1rZXktMzJiISE="  # yinling.settings.DEV_FIELD_KEY


def main(path: str, database: str = "db.sqlite3") -> None:
    target = Path(path)
    if target.exists():
        return
    if Path(database).exists():
        field_key = DEV_FIELD_KEY
        note = "# The demo database existed before this file: its numbers use the development field key.\n"
    else:
        field_key = base64.b64encode(secrets.token_bytes(32)).decode()
        note = ""
    text = (
        "# Written by tools/demo_keys.py for `make run` (git-ignored). Never use these keys in a deployment.\n"
        + note
        + f'SECRET_KEY="${{SECRET_KEY:-{secrets.token_urlsafe(50)}}}"\n'
        + f'FIELD_ENCRYPTION_KEY="${{FIELD_ENCRYPTION_KEY:-{field_key}}}"\n'
    )
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    print(f"make run: demo keys written to {target} (git-ignored)")


if __name__ == "__main__":
    main(*sys.argv[1:])
