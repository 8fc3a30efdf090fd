#!/usr/bin/env python3
"""The import rule of docs/architecture.md, checked against the code.

  scripts/check-layers.py            (run from anywhere; exit 0 when the rule holds)

Reads the targets and their declared dependencies from `swift package dump-package`, and every
`import` line of every Swift file under Sources/ and Tests/. Fails, naming the file and the module, when
  - a library imports a module of this package that sits at its level or above it in LAYERS
    (a layer may import only the layers listed before it);
  - a target imports a module of this package it does not declare in Package.swift;
  - Package.swift declares a dependency of a library or executable that no file of it imports;
  - an executable imports a library other than Pipeline or ModelServer (the executables parse arguments and call
    one stage: everything they need comes through Pipeline).
"""
import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The layers, lowest first. A library may import only libraries of earlier layers.
LAYERS = [
    {"_LinearAlgebraShims", "_NetworkKernels"},
    {"NumericalFoundations"},
    {"PDE", "Uncertainty", "Surrogates", "_TestSupport"},
    {"Reporting"},
    {"Pipeline"},
    # The UM-Bridge HTTP server over Pipeline's Serve stage: only pollutant-serve imports it.
    {"ModelServer"},
]
LEVEL = {name: i for i, layer in enumerate(LAYERS) for name in layer}
# Reporting draws the surrogates' histories and errors: it sits above Surrogates, not beside it.
LEVEL["Reporting"] = LEVEL["Surrogates"] + 1
EXTERNAL = {"Numerics", "TOMLKit", "ArgumentParser", "FlyingFox"}
SYSTEM = {"Foundation", "FoundationXML", "FoundationEssentials", "Dispatch", "Glibc", "Darwin", "XCTest", "Testing"}
IMPORT = re.compile(r"^\s*(?:@testable\s+|@_implementationOnly\s+)?import\s+(?:(?:struct|enum|class|func|protocol)\s+)?([A-Za-z_][A-Za-z0-9_]*)")


def package_targets():
    out = subprocess.run(["swift", "package", "dump-package"], cwd=ROOT, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"check-layers: swift package dump-package failed:\n{out.stderr}")
    targets = {}
    for t in json.loads(out.stdout)["targets"]:
        deps = set()
        for d in t["dependencies"]:
            kind = next(iter(d))
            deps.add(d[kind][0])
        folder = t.get("path") or os.path.join("Tests" if t["type"] == "test" else "Sources", t["name"])
        targets[t["name"]] = {"type": t["type"], "deps": deps, "folder": folder}
    return targets


def imports_of(folder):
    found = {}
    for root, _, files in os.walk(os.path.join(ROOT, folder)):
        for f in files:
            if not f.endswith(".swift"):
                continue
            path = os.path.join(root, f)
            with open(path, encoding="utf-8") as handle:
                for line in handle:
                    # Imports head a Swift file; stop at the first declaration (a test's embedded
                    # Python source says `import numpy` too).
                    m = IMPORT.match(line)
                    if m:
                        found.setdefault(m.group(1), []).append(os.path.relpath(path, ROOT))
                    elif line.strip() and not line.lstrip().startswith(("//", "#if", "#else", "#elseif", "#endif")):
                        break
    return found


def main():
    targets = package_targets()
    ours = set(targets)
    problems = []
    for name, t in sorted(targets.items()):
        if t["type"] == "system":
            continue
        imported = imports_of(t["folder"])
        for module, files in sorted(imported.items()):
            if module in SYSTEM:
                continue
            if module not in ours and module not in EXTERNAL:
                problems.append(f"{files[0]}: imports {module}, which is neither a target of this package nor a declared package product")
                continue
            if module == name:
                problems.append(f"{files[0]}: imports its own module {module}")
            if module not in t["deps"]:
                problems.append(f"{files[0]}: imports {module}, which Package.swift does not declare for {name}")
            if t["type"] == "regular" and module in LEVEL and name in LEVEL and LEVEL[module] >= LEVEL[name]:
                problems.append(f"{files[0]}: {name} imports {module}, a layer at or above its own (docs/architecture.md)")
            if t["type"] == "executable" and module in ours and module not in ("Pipeline", "ModelServer"):
                problems.append(f"{files[0]}: the executable {name} imports {module}; executables reach the libraries through Pipeline")
        if t["type"] in ("regular", "executable"):
            for dep in sorted(t["deps"]):
                if dep not in imported:
                    problems.append(f"Package.swift: {name} declares {dep}, but no file of {t['folder']} imports it")
    for p in problems:
        print(f"check-layers: {p}", file=sys.stderr)
    if problems:
        sys.exit(1)
    print(f"check-layers: {len(targets)} targets, the import rule holds")


if __name__ == "__main__":
    main()
