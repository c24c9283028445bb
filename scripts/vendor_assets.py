#!/usr/bin/env python3
"""Copy the front-end files DL Portal serves from node_modules/ into static/vendor/.

Bootstrap and Chart.js come from the npm registry, pinned exactly in package.json and locked in
package-lock.json; `make` runs `npm ci` and then this script, so nobody needs to call it by hand.
static/vendor/ is generated (and git-ignored): this script owns it, writes only what changed, and
removes any file it did not put there.

What lands in static/vendor/ (flat, names as npm ships them), for `{% static 'vendor/...' %}`:

    bootstrap.min.css          bootstrap.min.css.map
    bootstrap.bundle.min.js    bootstrap.bundle.min.js.map   (Bootstrap JS with Popper inside)
    chart.umd.min.js           chart.umd.min.js.map          (Chart.js 4, global `Chart`)

A minified file that names a source map (`sourceMappingURL=...`) gets that map copied beside it:
Django's ManifestStaticFilesStorage (and WhiteNoise's) rewrites the reference during
`collectstatic` and fails when the map is missing. The script finds those references itself, so a
new file added to FILES below brings its map along.

Usage:
    python scripts/vendor_assets.py          # copy; exit 1 if node_modules is missing or stale
    python scripts/vendor_assets.py --check  # change nothing; exit 1 if static/vendor is stale

Standard library only: any Python 3.11+ runs it, with or without the project's virtualenv.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "node_modules"
VENDOR = ROOT / "static" / "vendor"
# Written last, after every copy succeeded; the Makefile uses it as its stamp. Django's
# collectstatic skips dot-files, so it is never served.
STAMP = VENDOR / ".vendored"

# (npm package, path inside the package). Each file lands in static/vendor/ under its own name.
FILES = [
    ("bootstrap", "dist/css/bootstrap.min.css"),
    ("bootstrap", "dist/js/bootstrap.bundle.min.js"),
    ("chart.js", "dist/chart.umd.min.js"),
]

# `/*# sourceMappingURL=x.map */` (CSS) or `//# sourceMappingURL=x.map` (JS); `//@` is the old form.
SOURCE_MAP_RE = re.compile(rb"[#@]\s*sourceMappingURL=([^\s*'\"]+)")


def fail(message: str) -> None:
    sys.exit(f"vendor_assets: {message}")


def pinned_versions() -> dict[str, str]:
    """The exact versions package.json asks for, checked against what node_modules holds."""
    wanted = json.loads((ROOT / "package.json").read_text())["dependencies"]
    versions = {}
    for package in sorted({package for package, _ in FILES}):
        if package not in wanted:
            fail(f"{package} is not a dependency in package.json")
        manifest = NODE_MODULES / package / "package.json"
        if not manifest.is_file():
            fail(f"{manifest.relative_to(ROOT)} is missing: run `npm ci` (or just `make`)")
        installed = json.loads(manifest.read_text())["version"]
        if installed != wanted[package]:
            fail(
                f"node_modules has {package} {installed} but package.json pins "
                f"{wanted[package]}: run `npm ci` (or just `make`)"
            )
        versions[package] = installed
    return versions


def source_map_of(source: Path) -> Path | None:
    """The map file a minified file points at, if it points at one (data: URLs excepted)."""
    references = SOURCE_MAP_RE.findall(source.read_bytes()[-1024:])
    if not references:
        return None
    url = references[-1].decode()  # the last reference is the one that counts
    if url.startswith("data:"):
        return None
    if "/" in url or url.startswith("http"):
        fail(f"{source.name} points at {url!r}; only a map beside the file can be vendored")
    target = source.with_name(url)
    if not target.is_file():
        fail(f"{source.relative_to(ROOT)} references {url}, which the npm package does not ship")
    return target


def planned_copies() -> dict[str, Path]:
    """Destination name in static/vendor/ -> source file in node_modules/."""
    plan: dict[str, Path] = {}
    for package, inner in FILES:
        source = NODE_MODULES / package / inner
        if not source.is_file():
            fail(f"{source.relative_to(ROOT)} is missing from the {package} package")
        for path in filter(None, (source, source_map_of(source))):
            if plan.setdefault(path.name, path) != path:
                fail(f"two files would land as static/vendor/{path.name}")
    return plan


def stamp_text(versions: dict[str, str], plan: dict[str, Path]) -> str:
    lines = ["# Written by scripts/vendor_assets.py; do not edit."]
    lines += [f"{package}=={version}" for package, version in versions.items()]
    lines += sorted(plan)
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--check", action="store_true", help="report differences and exit 1; change nothing"
    )
    args = parser.parse_args()

    versions = pinned_versions()
    plan = planned_copies()
    stamp = stamp_text(versions, plan)

    stale = [
        name
        for name, source in plan.items()
        if not (VENDOR / name).is_file() or (VENDOR / name).read_bytes() != source.read_bytes()
    ]
    extra = (
        sorted(p.name for p in VENDOR.iterdir() if p != STAMP and p.name not in plan)
        if VENDOR.is_dir()
        else []
    )
    stamp_stale = not STAMP.is_file() or STAMP.read_text() != stamp

    if args.check:
        for name in stale:
            print(f"static/vendor/{name}: missing or out of date")
        for name in extra:
            print(f"static/vendor/{name}: not produced by this script")
        if stamp_stale:
            print(f"{STAMP.relative_to(ROOT)}: missing or out of date")
        return 1 if stale or extra or stamp_stale else 0

    VENDOR.mkdir(parents=True, exist_ok=True)
    for name in extra:
        path = VENDOR / name
        if path.is_dir():
            fail(f"{path.relative_to(ROOT)} is a folder; remove it by hand")
        path.unlink()
        print(f"removed static/vendor/{name}")
    for name in stale:
        destination = VENDOR / name
        temporary = destination.with_name(f".{name}.tmp")
        temporary.write_bytes(plan[name].read_bytes())
        temporary.replace(destination)
        print(f"copied  {plan[name].relative_to(ROOT)} -> static/vendor/{name}")
    STAMP.write_text(stamp)
    summary = ", ".join(f"{package} {version}" for package, version in versions.items())
    print(f"static/vendor is current ({summary}; {len(stale)} file(s) copied)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
