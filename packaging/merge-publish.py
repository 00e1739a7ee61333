#!/usr/bin/env python3
"""Merge two self-contained publish folders (edge-agent, edgectl) into one (see build-deb.sh).

usage: merge-publish.py AGENT_DIR CLI_DIR OUT_DIR
A file present in both must be byte-identical, or a managed assembly that both deps.json files list with the
same assemblyVersion; for those the copy with the higher fileVersion is kept and reported.
"""
import filecmp
import glob
import json
import os
import shutil
import sys


def assemblies(folder):
    """file name -> (assemblyVersion, fileVersion) from the folder's *.deps.json runtime entries."""
    result = {}
    for deps in glob.glob(os.path.join(folder, "*.deps.json")):
        with open(deps, encoding="utf-8") as f:
            data = json.load(f)
        for libs in data["targets"].values():
            for lib in libs.values():
                for path, meta in lib.get("runtime", {}).items():
                    result[os.path.basename(path)] = (meta.get("assemblyVersion"), meta.get("fileVersion"))
    return result


def version_key(text):
    return tuple(int(p) for p in (text or "0").split("."))


def main():
    agent, cli, out = sys.argv[1:4]
    shutil.copytree(agent, out, dirs_exist_ok=True, symlinks=True)
    agent_asm, cli_asm = assemblies(agent), assemblies(cli)
    errors, replaced = [], []
    for dirpath, _, files in os.walk(cli):
        for name in files:
            rel = os.path.relpath(os.path.join(dirpath, name), cli)
            src, dst = os.path.join(cli, rel), os.path.join(out, rel)
            if not os.path.exists(dst):
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                shutil.copy2(src, dst)
            elif not filecmp.cmp(src, dst, shallow=False):
                a, c = agent_asm.get(name), cli_asm.get(name)
                if a is None or c is None or a[0] is None or a[0] != c[0]:
                    errors.append(f"{rel}: differs (edge-agent {a}, edgectl {c})")
                elif version_key(c[1]) > version_key(a[1]):
                    shutil.copy2(src, dst)
                    replaced.append(f"{rel} {a[1]} -> {c[1]}")
    for line in replaced:
        print(f"merge: {line} (assembly {cli_asm[os.path.basename(line.split(' ')[0])][0]})")
    if errors:
        print("merge-publish: edge-agent and edgectl publish different files:\n  " + "\n  ".join(errors), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
