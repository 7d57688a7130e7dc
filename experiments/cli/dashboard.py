"""`smesim dashboard [SCENARIO] [--scale S] [--lang en|fa] [--digits latin|persian] [--port P] [--host H]`:
serve experiments/dashboard/app.py with `solara run` in a subprocess (solara is imported only
there, so the CLI stays quick)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from experiments.errors import FlagError
from experiments.formatting import DIGITS
from experiments.inputs.scenario import load_scenario
from experiments.report.words import LANGUAGES

__all__ = ["add_commands", "serve", "server_command"]

APP = Path(__file__).parents[1] / "dashboard" / "app.py"
DEFAULT_SCALE = 0.1  # experiments.dashboard.app.DEFAULT_SCALE (not imported: it loads solara)
DEFAULT_PORT = 8765


def add_commands(commands) -> None:
    parser = commands.add_parser(
        "dashboard",
        help="the model in the browser (a solara page for workshops)",
        description="Serve the dashboard: pick a scenario, move levers, step or play, "
        "watch the goals against their targets beside the baseline.",
    )
    parser.add_argument(
        "scenario",
        nargs="?",
        default="baseline",
        metavar="SCENARIO",
        help="a shipped scenario's name or a scenario file (default: baseline)",
    )
    parser.add_argument(
        "--scale",
        type=float,
        default=DEFAULT_SCALE,
        help=f"share of the units simulated, in (0, 1] (default {DEFAULT_SCALE})",
    )
    parser.add_argument("--lang", default="en", help=f"the page's language: {' or '.join(LANGUAGES)} (default en)")
    parser.add_argument("--digits", default="latin", help="latin or persian digits (default latin)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    parser.add_argument("--host", default="127.0.0.1", help="host (default 127.0.0.1)")
    parser.set_defaults(
        handler=lambda args, argv: serve(args.scenario, args.scale, args.port, args.host, args.lang, args.digits)
    )


def server_command(
    scenario: str, scale: float, port: int, host: str, lang: str = "en", digits: str = "latin"
) -> tuple[list[str], dict]:
    """The `solara run` command line and environment that serve the dashboard (checked inputs:
    a bad scenario file is refused here, naming the file and key, as by `smesim run`)."""
    if Path(scenario).is_file():
        scenario = str(Path(scenario).resolve())  # the server runs from another directory
    load_scenario(scenario)
    if not 0.0 < scale <= 1.0:
        raise FlagError("--scale", f"must lie in (0, 1], got {scale}")
    if not 0 < port < 65536:
        raise FlagError("--port", f"must lie in [1, 65535], got {port}")
    if lang not in LANGUAGES:
        raise FlagError("--lang", f"must be one of {', '.join(LANGUAGES)}, got {lang!r}")
    if digits not in DIGITS:
        raise FlagError("--digits", f"must be one of {', '.join(DIGITS)}, got {digits!r}")
    env = {
        # No calls to outside hosts (a ministry network): solara's usage telemetry is off unless
        # asked for. A page whose connection is lost frees its run after a minute, not solara's 24 h
        # (a closed tab frees it at once).
        "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
        "SOLARA_THEME_SHOW_BANNER": "False",  # solara's "This website runs on Solara" over the tables
        "SOLARA_KERNEL_CULL_TIMEOUT": "60s",
        **os.environ,
        "SMESIM_DASHBOARD_SCENARIO": scenario,
        "SMESIM_DASHBOARD_SCALE": str(scale),
        "SMESIM_DASHBOARD_LANG": lang,
        "SMESIM_DASHBOARD_DIGITS": digits,
    }
    command = [
        sys.executable,
        "-m",
        "solara",
        "run",
        str(APP),
        "--host",
        host,
        "--port",
        str(port),
        "--production",
        "--no-open",
    ]
    return command, env


def serve(scenario: str, scale: float, port: int, host: str, lang: str = "en", digits: str = "latin") -> int:
    command, env = server_command(scenario, scale, port, host, lang, digits)
    print(f"dashboard: http://{host}:{port}/  (scenario {scenario}, scale {scale}, {lang}; Ctrl-C stops)", flush=True)
    return subprocess.call(command, env=env)
