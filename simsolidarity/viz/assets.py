"""Offline assets for the browser app: Solara's CDN cache filled from the npm registry.

A Solara page loads its JavaScript and CSS from ``cdn.jsdelivr.net/npm/<package>@<version>/<file>``,
proxied by the Solara server through ``/_solara/cdn/`` and cached in a folder (Solara's default:
``<venv>/share/solara/cdn``; or ``$SOLARA_ASSETS_PROXY_CACHE_DIR``). Where the CDN cannot be
reached, the page stays blank unless that folder already holds the files. Since the CDN serves
npm packages as they are published, ``npm pack`` of the same package and version, unpacked into
``<folder>/<package>@<version>/``, gives the same files: :func:`fetch_assets` does that for every
package the app needs, and :func:`assets_ready` tells whether a folder is complete.

Online users need none of this: the Solara server then fills its cache from the CDN itself. No
package on PyPI carries these files for the installed Solara (``solara-assets`` stops at 1.58), so
``simsolidarity viz`` refuses to start where neither the cache nor the CDN has them
(:func:`cdn_reachable`), naming the command that fills the cache.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from simsolidarity.errors import SimsolidarityError

#: The npm packages (name@exact version) that Solara 1.64 pages load from the CDN with the Vue-2
#: widget stack (ipyvue < 3, ipyvuetify < 3): the app bundle, its module loader, the icon font,
#: the draggable card grid of SolaraViz, and the Vega trio for Altair-backed Mesa components.
CDN_PACKAGES: tuple[str, ...] = (
    "@widgetti/solara-vuetify-app@10.1.1",
    "requirejs@2.3.6",
    "font-awesome@4.5.0",
    "@widgetti/vue-grid-layout@2.3.13-alpha.2",
    "vega@5",
    "vega-lite@5",
    "vega-embed@6",
)
#: Environment variable through which the Solara server is told where its CDN cache is.
CACHE_DIR_VARIABLE = "SOLARA_ASSETS_PROXY_CACHE_DIR"
#: The CDN the Solara server fetches the page's assets from, when its cache lacks them.
CDN_HOST = "cdn.jsdelivr.net"
#: How long to wait for the CDN to answer before calling it unreachable, in seconds.
CDN_TIMEOUT = 3.0


class AssetsError(SimsolidarityError):
    """The asset cache cannot be prepared (no npm, a package that cannot be fetched, a folder not writable)."""


def default_cache_dir() -> Path:
    """The CDN cache folder: ``$SOLARA_ASSETS_PROXY_CACHE_DIR`` if set, else Solara's own default.

    Solara's default is ``share/solara/cdn`` under the Python environment's prefix, so a cache
    prepared there also serves ``solara run simsolidarity/viz/app.py`` without any setting.
    """
    configured = os.environ.get(CACHE_DIR_VARIABLE)
    return Path(configured).expanduser() if configured else Path(sys.prefix) / "share" / "solara" / "cdn"


def assets_ready(folder: Path | None = None, packages: Sequence[str] = CDN_PACKAGES) -> bool:
    """Whether ``folder`` (default :func:`default_cache_dir`) holds every package of ``packages``."""
    folder = default_cache_dir() if folder is None else Path(folder)
    return all((folder / spec / "package.json").is_file() for spec in packages)


def cdn_reachable(host: str = CDN_HOST, timeout: float = CDN_TIMEOUT) -> bool:
    """Whether a TLS connection to the CDN can be opened now (the Solara server would then fill its cache)."""
    try:
        with socket.create_connection((host, 443), timeout=timeout):
            return True
    except OSError:
        return False


def _npm() -> str:
    npm = shutil.which("npm")
    if npm is None:
        raise AssetsError(
            "npm was not found: install Node.js and npm (e.g. 'apt-get install npm') to prepare the offline "
            "assets, or run the app where cdn.jsdelivr.net can be reached, where none are needed"
        )
    return npm


def _pack(npm: str, spec: str, workdir: Path) -> Path:
    """Download the tarball of ``spec`` from the npm registry into ``workdir``; returns its path."""
    done = subprocess.run(
        [npm, "pack", spec, "--silent"], cwd=workdir, capture_output=True, text=True, check=False
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines or not (workdir / lines[-1]).is_file():
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise AssetsError(f"npm pack {spec} failed: {detail[-1] if detail else f'exit code {done.returncode}'}")
    return workdir / lines[-1]


def _unpack(tarball: Path, target: Path) -> None:
    """Unpack an npm tarball (whose entries sit under ``package/``) into ``target``, without source maps."""
    with tarfile.open(tarball, "r:gz") as archive:
        members = []
        for member in archive.getmembers():
            if not (member.isfile() or member.isdir()):
                continue
            _, _, inner = member.name.partition("/")
            if not inner or inner.endswith(".map"):
                continue
            member.name = inner
            members.append(member)
        archive.extractall(target, members=members, filter="data")


def fetch_assets(
    dest: Path | None = None,
    *,
    packages: Sequence[str] = CDN_PACKAGES,
    force: bool = False,
    report: Callable[[str], None] | None = None,
) -> Path:
    """Fill the CDN cache folder ``dest`` (default :func:`default_cache_dir`) from the npm registry.

    Each package lands in ``dest/<name>@<version>/`` exactly as the CDN path names it. A package
    already there is kept unless ``force``. Each one is unpacked beside its final place and then
    moved, so an interrupted run never leaves a half-filled package that looks complete.

    Args:
        dest: the cache folder.
        packages: npm package specs, ``name@version``.
        force: fetch packages that are already there again.
        report: called with one line of progress per package (e.g. ``print``), or ``None``.

    Returns:
        The cache folder.

    Raises:
        AssetsError: npm is missing, a package cannot be fetched, or the folder cannot be written.
    """
    dest = default_cache_dir() if dest is None else Path(dest).expanduser()
    say = report or (lambda line: None)
    npm = _npm()
    try:
        dest.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="simsolidarity-assets-") as scratch:
            workdir = Path(scratch)
            for spec in packages:
                target = dest / spec
                if (target / "package.json").is_file() and not force:
                    say(f"kept     {spec}")
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                staging = Path(tempfile.mkdtemp(prefix=".partial-", dir=target.parent))
                staging.chmod(0o755)
                try:
                    _unpack(_pack(npm, spec, workdir), staging)
                    if target.exists():
                        shutil.rmtree(target)
                    staging.rename(target)
                finally:
                    shutil.rmtree(staging, ignore_errors=True)
                say(f"fetched  {spec}")
    except OSError as error:
        raise AssetsError(f"cannot write the asset cache {dest}: {error}") from None
    return dest

