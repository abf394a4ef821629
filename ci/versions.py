#!/usr/bin/env python3
"""The exact release version that each host integration runs, in one place.

Usage: versions.py check [VERSION]   (default: the chaos-gate crate's version)
       versions.py stamp VERSION     (rewrites every stamp to VERSION)

Pinning a host integration (`uses: chaos-gate/chaos-gate@v1.2.3`, the
GitLab component `@1.2.3`, the Jenkins library `@v1.2.3`, a Harness plugin
step at a tag) must run exactly that release, so every file that names a
binary or an image names the exact version, never a moving major tag. The
stamps are listed in STAMPS below; `check` fails when any of them differs
from VERSION, `stamp` rewrites them. The release workflow runs `check` with
the tag's version, ci/lint.sh with the crate's version, so a version bump
is one command:

    python3 ci/versions.py stamp 1.2.3   # with crates/chaos-gate/Cargo.toml at 1.2.3

Standard library only: it runs on a bare GitHub runner.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEMVER = r"[0-9]+\.[0-9]+\.[0-9]+(?:-[0-9A-Za-z.-]+)?"

# (file, regex with one group around the version, what it is)
STAMPS = [
    ("action.yml", r"(?m)^  version:\n(?:    .*\n)*?    default: \"?(" + SEMVER + r")\"?$",
     "composite action: the release binary it installs by default"),
    ("docker/action.yml", r"image: docker://ghcr\.io/chaos-gate/chaos-gate:v(" + SEMVER + r")\s*$",
     "container action: the image it runs"),
    ("templates/chaos-gate.yml", r"(?m)^    version:\n(?:      .*\n)*?      default: \"?(" + SEMVER + r")\"?$",
     "GitLab component: the release (image tag, binary version) it runs by default"),
    ("vars/chaosGate.groovy", r"DEFAULT_VERSION = '(" + SEMVER + r")'",
     "Jenkins step: the release it runs by default"),
    ("plugin.yml", r"image: ghcr\.io/chaos-gate/chaos-gate:v(" + SEMVER + r")\s*$",
     "Harness plugin: the image for container hosts"),
    ("plugin.yaml", r"image: ghcr\.io/chaos-gate/chaos-gate:v(" + SEMVER + r")\s*$",
     "plugin index example: the image it shows"),
]


def crate_version() -> str:
    text = (ROOT / "crates" / "chaos-gate" / "Cargo.toml").read_text(encoding="utf-8")
    m = re.search(r'(?m)^version = "([^"]+)"', text)
    if not m:
        raise SystemExit("crates/chaos-gate/Cargo.toml: no version")
    return m.group(1)


def find(path: str, pattern: str) -> list[re.Match]:
    text = (ROOT / path).read_text(encoding="utf-8")
    return list(re.finditer(pattern, text, re.M))


def check(version: str) -> int:
    bad = 0
    for path, pattern, what in STAMPS:
        found = find(path, pattern)
        if not found:
            print(f"{path}: no version stamp found ({what})")
            bad += 1
            continue
        for m in found:
            if m.group(1) != version:
                print(f"{path}: {what} is {m.group(1)}, expected {version} "
                      f"(run: python3 ci/versions.py stamp {version})")
                bad += 1
    # No moving tag may be the only way in: the integration files must not
    # name a major-only image tag such as :v0 or :v0-shell.
    for path in ("action.yml", "docker/action.yml", "templates/chaos-gate.yml",
                 "vars/chaosGate.groovy", "plugin.yml", "plugin.yaml"):
        text = (ROOT / path).read_text(encoding="utf-8")
        for m in re.finditer(r"ghcr\.io/chaos-gate/chaos-gate:v[0-9]+(?:-shell)?(?![0-9.])", text):
            print(f"{path}: names the moving tag {m.group(0)}; name the exact version")
            bad += 1
    if bad == 0:
        print(f"ok -- every host integration runs {version}")
    return 1 if bad else 0


def stamp(version: str) -> int:
    if not re.fullmatch(SEMVER, version):
        raise SystemExit(f"not a version: {version}")
    for path, pattern, _ in STAMPS:
        p = ROOT / path
        text = p.read_text(encoding="utf-8")
        out, last = [], 0
        for m in re.finditer(pattern, text, re.M):
            out.append(text[last:m.start(1)])
            out.append(version)
            last = m.end(1)
        out.append(text[last:])
        p.write_text("".join(out), encoding="utf-8")
    return check(version)


def main() -> int:
    args = sys.argv[1:]
    if args[:1] == ["check"] and len(args) <= 2:
        return check(args[1].lstrip("v") if len(args) == 2 else crate_version())
    if args[:1] == ["stamp"] and len(args) == 2:
        return stamp(args[1].lstrip("v"))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
