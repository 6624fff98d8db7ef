"""Plumbing for the SDK conformance run: dev wallets, step reporting, btcli.

Kept apart from ``conformance.py`` so that file reads as the flows a subnet
owner, miner and validator would write against the SDK.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Awaitable, Callable, Optional

from bittensor.sp_core import Keypair

#: Printed width of an error; chain errors can carry long docs.
MAX_ERROR_CHARS = 400


@dataclass
class DevWallet:
    """A wallet-shaped object (``bittensor.KeyedWallet``) built from dev URIs.

    The SDK accepts anything carrying ``coldkey``/``coldkeypub``/``hotkey``
    keypairs wherever it takes a wallet, so dev keys need no keyfiles on disk.
    """

    coldkey: Any
    coldkeypub: Any
    hotkey: Any

    @classmethod
    def from_uris(cls, coldkey_uri: str, hotkey_uri: str) -> "DevWallet":
        cold = Keypair.create_from_uri(coldkey_uri)
        return cls(coldkey=cold, coldkeypub=cold, hotkey=Keypair.create_from_uri(hotkey_uri))


def dev_address(uri: str) -> str:
    """The ss58 address of a dev key URI such as ``//Alice//subnet-owner``."""
    return Keypair.create_from_uri(uri).ss58_address


class Skipped(Exception):
    """A step could not run because an earlier step it needs failed."""


def one_line(error: BaseException) -> str:
    """``Type: message`` on a single line, bounded in length."""
    text = " ".join(str(error).split()) or repr(error)
    name = type(error).__name__
    line = text if text.startswith(name) else f"{name}: {text}"
    return line if len(line) <= MAX_ERROR_CHARS else line[: MAX_ERROR_CHARS - 3] + "..."


class Report:
    """Runs steps, printing exactly one ``ok``/``FAIL`` line for each."""

    def __init__(self) -> None:
        self.failed: list[str] = []
        self.last_error: Optional[BaseException] = None

    async def step(
        self,
        name: str,
        action: Callable[[], Awaitable[Any]],
        *,
        timeout: float = 60.0,
        needs: Optional[dict[str, Any]] = None,
    ) -> Any:
        """Run ``action`` (returning ``(value, detail)``) within ``timeout`` seconds.

        ``needs`` maps a description to a prerequisite value; when any is None
        the step is reported failed as skipped without running. Returns the
        step's value, or None when it failed.
        """
        missing = [what for what, value in (needs or {}).items() if value is None]
        try:
            if missing:
                raise Skipped("skipped, needs " + ", ".join(missing))
            value, detail = await asyncio.wait_for(action(), timeout)
        except asyncio.TimeoutError:
            self._fail(name, f"timed out after {timeout:.0f}s")
            return None
        except Skipped as skipped:
            self._fail(name, str(skipped))
            return None
        except Exception as error:  # one run should show every failure
            self.last_error = error
            self._fail(name, one_line(error))
            return None
        print(f"ok   {name}: {detail}", flush=True)
        return value

    def _fail(self, name: str, message: str) -> None:
        self.failed.append(name)
        print(f"FAIL {name}: {message}", flush=True)


def check(condition: bool, message: str) -> None:
    """Fail the current step with ``message`` unless ``condition`` holds."""
    if not condition:
        raise AssertionError(message)


def submitted(result: Any) -> Any:
    """An ``ExtrinsicResult`` that succeeded on chain, else its ``ChainError``."""
    return result.raise_for_failure()


def btcli_path() -> str:
    """The ``btcli`` shipped next to this interpreter (else the one on PATH)."""
    local = Path(sys.executable).parent / "btcli"
    if local.exists():
        return str(local)
    found = shutil.which("btcli")
    if found is None:
        raise FileNotFoundError("btcli not found next to the interpreter or on PATH")
    return found


async def run_btcli(args: list[str], home: str, timeout: float) -> tuple[Any, str]:
    """Run ``btcli ARGS --json`` with a scratch HOME; return (parsed JSON, detail)."""
    env = dict(os.environ, HOME=home, COLUMNS="200", NO_COLOR="1")
    cmd = [btcli_path(), *args, "--json"]

    def run() -> subprocess.CompletedProcess:
        return subprocess.run(
            cmd, env=env, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
        )

    try:
        proc = await asyncio.to_thread(run)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"no exit within {timeout:.0f}s (killed)") from None
    parsed = _json_or_none(proc.stdout)
    if proc.returncode != 0:
        # btcli --json reports failures as {"error": ...} on stderr.
        failure = _json_or_none(proc.stderr) or parsed
        if isinstance(failure, dict) and failure.get("error"):
            raise RuntimeError(f"exit {proc.returncode}: {failure['error']}")
        output = (proc.stderr.strip() or proc.stdout.strip()).splitlines()
        tail = " | ".join(line.strip() for line in output[-6:] if line.strip())
        raise RuntimeError(f"exit {proc.returncode}: {tail}")
    return parsed, f"exit 0, {len(proc.stdout)} bytes of JSON"


def _json_or_none(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return None
