"""The dunning core (the policy and the decision) stays pure: importing it, with everything
it imports in turn, loads no cloud SDK, web framework, storage adapter or clock-reading
service."""

from __future__ import annotations

import json
import subprocess
import sys

FORBIDDEN = ("azure", "fastapi", "starlette", "httpx", "sqlite3", "weasyprint", "shared.platform", "shared.bootstrap")


def test_the_dunning_core_loads_no_infrastructure():
    probe = (
        "import sys, json; import shared.collections.policy, shared.collections.dunning; "
        "print(json.dumps(sorted(sys.modules)))"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    bad = [m for m in json.loads(loaded) if m.startswith(FORBIDDEN)]
    assert bad == []
