#!/usr/bin/env python3
"""The MSRV the workspace declares holds for what the published crates pull in.

This machine has one toolchain, so the crates cannot be built on the declared
`rust-version` itself. What can be checked: no dependency of hasten-web or
hasten-macros, with every feature on, declares a newer `rust-version` than the
workspace (cargo would refuse to build it on the MSRV), and clippy's
`incompatible_msrv` lint (on in CI's clippy run) rejects standard-library APIs newer
than the MSRV in hasten's own code.
"""
import json
import subprocess
import sys
import tomllib


def version(text):
    parts = [int(p) for p in text.split(".")]
    return tuple(parts + [0] * (3 - len(parts)))


with open("Cargo.toml", "rb") as f:
    msrv = tomllib.load(f)["workspace"]["package"]["rust-version"]
published = {"hasten-web", "hasten-macros"}
meta = json.loads(subprocess.check_output(
    ["cargo", "metadata", "--format-version", "1", "--all-features", "--locked"]))
packages = {p["id"]: p for p in meta["packages"]}
nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}
# Everything the published crates reach through normal and build dependencies.
seen, todo = set(), [i for i, p in packages.items() if p["name"] in published]
while todo:
    node = nodes[todo.pop()]
    if node["id"] in seen:
        continue
    seen.add(node["id"])
    for dep in node["deps"]:
        if any(k["kind"] in (None, "build") for k in dep["dep_kinds"]):
            todo.append(dep["pkg"])
newer = sorted(
    (packages[i]["name"], packages[i]["version"], packages[i]["rust_version"])
    for i in seen
    if packages[i].get("rust_version") and version(packages[i]["rust_version"]) > version(msrv)
)
for name, ver, rv in newer:
    print(f"FAIL msrv: {name} {ver} needs Rust {rv}, above the declared {msrv}")
if newer:
    sys.exit(1)
print(f"ok   MSRV {msrv}: the {len(seen)} crates hasten-web and hasten-macros build on ask for no newer Rust")
