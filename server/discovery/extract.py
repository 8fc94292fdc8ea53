#!/usr/bin/env python3
"""Writes methods.json, the connector table, from Google's discovery documents.

Run from this folder with the documents' folder as the argument:
    python3 extract.py DIR   # DIR holds firestore.v1.json, pubsub.v1.json, datastore.v1.json
See PROVENANCE.md for where the documents came from.
"""
import json
import sys

SERVICES = ["firestore.v1", "pubsub.v1", "datastore.v1"]


def walk(resources, out):
    for res in resources.values():
        for m in res.get("methods", {}).values():
            params = {}
            for name, p in sorted(m.get("parameters", {}).items()):
                params[name] = {
                    "location": p["location"],
                    "repeated": bool(p.get("repeated", False)),
                    "required": bool(p.get("required", False)),
                }
            out[m["id"]] = {
                "httpMethod": m["httpMethod"],
                "path": m["path"],
                "parameters": params,
                "request": "request" in m,
            }
        walk(res.get("resources", {}), out)


def main(folder):
    table = {}
    for service in SERVICES:
        with open(f"{folder}/{service}.json") as f:
            doc = json.load(f)
        methods = {}
        walk(doc.get("resources", {}), methods)
        table[service] = {
            "revision": doc["revision"],
            "servicePath": doc["servicePath"],
            "methods": dict(sorted(methods.items())),
        }
    with open("methods.json", "w") as f:
        json.dump(table, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
