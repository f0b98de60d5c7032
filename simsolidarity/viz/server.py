"""Serve the browser app: a ``solara run`` of :mod:`simsolidarity.viz.app` in a child process.

:func:`serve` starts the server, waits until it answers, prints the address to open, and stops
it cleanly on Ctrl-C (or SIGTERM), never leaving the child running.
"""

from __future__ import annotations

import ctypes
import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from simsolidarity.errors import SimsolidarityError

from .assets import CACHE_DIR_VARIABLE

#: The app module that ``solara run`` serves.
APP_PATH = Path(__file__).resolve().parent / "app.py"
#: Environment variable naming the scenario the app starts from (a file or a ready scenario name).
SCENARIO_VARIABLE = "SIMSOLIDARITY_SCENARIO"
#: Solara's warning, on each first visit over plain http to a host other than ``localhost``, that
#: its session cookie falls back to ``SameSite=Lax``; harmless for this app, and silenced.
QUIET_WARNINGS = "ignore:Cookies with samesite=none require https:UserWarning"
#: How long the server may take to answer its first request.
START_TIMEOUT = 90.0
#: How long a stopping server may take before it is terminated, then killed.
STOP_GRACE = 5.0


class ServerError(SimsolidarityError):
    """The app server cannot be started (port taken, server failed to start)."""


def port_is_free(host: str, port: int) -> bool:
    """Whether a TCP server could listen on ``host:port`` now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on ``host`` that is free now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def address(host: str, port: int) -> str:
    """The address to open in a browser (a wildcard host is shown as ``localhost``)."""
    shown = "localhost" if host in ("0.0.0.0", "::", "") else host
    return f"http://{shown}:{port}/"


def solara_command(host: str, port: int, app: Path = APP_PATH) -> list[str]:
    """The ``solara run`` command line: no browser opened, no version check, production mode."""
    return [
        sys.executable, "-m", "solara", "run", str(app), "--host", host, "--port", str(port),
        "--no-open", "--no-check-version", "--production",
    ]


def server_environment(scenario: Path, assets: Path | None) -> dict[str, str]:
    """The child's environment: the scenario to serve, the asset cache if any, no telemetry, no banner, one
    warning less."""
    env = dict(os.environ)
    env[SCENARIO_VARIABLE] = str(scenario)
    env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] = "false"
    # Solara's "runs on Solara" banner is fixed to the window's corner, over whatever card scrolls under it.
    env["SOLARA_THEME_SHOW_BANNER"] = "false"
    env["PYTHONWARNINGS"] = ",".join(filter(None, (env.get("PYTHONWARNINGS"), QUIET_WARNINGS)))
    if assets is not None:
        env[CACHE_DIR_VARIABLE] = str(assets)
    return env


def _answers(host: str, port: int) -> bool:
    connect = "127.0.0.1" if host in ("0.0.0.0", "", "localhost") else ("::1" if host == "::" else host)
    connection = http.client.HTTPConnection(connect, port, timeout=2)
    try:
        connection.request("GET", "/readyz")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def _stop(child: subprocess.Popen) -> int:
    """Stop the child: SIGINT (as Ctrl-C would), then SIGTERM, then SIGKILL; returns its exit code."""
    for send in (lambda: child.send_signal(signal.SIGINT), child.terminate, child.kill):
        if child.poll() is not None:
            break
        send()
        try:
            child.wait(STOP_GRACE)
        except subprocess.TimeoutExpired:
            continue
        except KeyboardInterrupt:  # a second Ctrl-C: no more waiting
            child.kill()
            break
    return child.wait()


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Ask Linux to send the child SIGTERM should this process die without stopping it."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def serve(
    scenario: Path,
    host: str = "127.0.0.1",
    port: int = 8765,
    *,
    assets: Path | None = None,
    say: Callable[[str], None] = print,
    title: str = "",
) -> int:
    """Serve the app for ``scenario`` until Ctrl-C; returns the exit code (0 when stopped by the user).

    Args:
        scenario: the scenario file the app starts from.
        host: the interface to listen on.
        port: the TCP port (0: any free port).
        assets: the offline asset cache to serve from, or ``None`` to let Solara use the CDN.
        say: where the address and status lines go.
        title: what is served, for the status line.

    Raises:
        ServerError: the port is taken, or the server did not start.
    """
    if port == 0:
        port = free_port(host or "127.0.0.1")
    elif not port_is_free(host, port):
        raise ServerError(f"port {port} on {host} is in use: choose another with --port (0 picks a free one)")
    child = subprocess.Popen(
        solara_command(host, port),
        env=server_environment(scenario, assets),
        preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,  # noqa: PLW1509 - no threads yet
    )
    previous = signal.getsignal(signal.SIGTERM)
    in_main_thread = threading.current_thread() is threading.main_thread()
    if in_main_thread:
        signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not _answers(host, port):
            if child.poll() is not None:
                raise ServerError(f"the app server stopped while starting (exit code {child.returncode})")
            if time.monotonic() > deadline:
                raise ServerError(f"the app server did not answer within {START_TIMEOUT:.0f} s")
            time.sleep(0.2)
        say(f"simsolidarity viz: {title + ' ' if title else ''}at {address(host, port)}  (Ctrl-C to stop)")
        sys.stdout.flush()
        code = child.wait()
        say(f"simsolidarity viz: the app server stopped (exit code {code})")
        return 1 if code else 0
    except KeyboardInterrupt:
        _stop(child)
        say("simsolidarity viz: stopped")
        return 0
    finally:
        if child.poll() is None:
            _stop(child)
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt

