#!/usr/bin/env python3
"""A real third-party Open311 client against a live jiesu server.

Uses the PyPI package `georeport` (https://pypi.org/project/georeport/, read side only: services,
service definitions, requests, one request) in both its JSON and XML modes (the XML mode parses
with xmltodict). The client cannot POST, so the requests it reads are filed with a plain form POST,
exactly as the spec describes, using a key issued by `jiesu open311 key add`.

    python3 -m venv /tmp/georeport-venv && /tmp/georeport-venv/bin/pip install georeport
    cargo build -p jiesu
    /tmp/georeport-venv/bin/python crates/server/tests/open311_client.py --jiesu target/debug/jiesu

Starts its own server on a fresh SQLite database in a temporary folder (run from the repository
root so the server finds world/xicheng), and stops it at the end. Exits non-zero on any failure.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

import requests
from georeport import GeoReport

W3C = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00$")
FIELDS = [
    "service_request_id", "status", "status_notes", "service_name", "service_code",
    "description", "agency_responsible", "service_notice", "requested_datetime",
    "updated_datetime", "expected_datetime", "address", "address_id", "zipcode", "lat",
    "long", "media_url",
]


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def start_server(jiesu, folder):
    db = f"sqlite://{folder}/open311-client.db"
    key = json.loads(subprocess.run(
        [jiesu, "open311", "key", "add", "--db", db, "--name", "georeport-pypi"],
        check=True, capture_output=True, text=True).stdout)["api_key"]
    proc = subprocess.Popen(
        [jiesu, "serve", "--db", db, "--bind", "127.0.0.1:0"],
        stdout=subprocess.PIPE, text=True)
    # The server prints its address once it listens.
    line = proc.stdout.readline()
    m = re.search(r"http://(\S+)", line)
    if not m:
        proc.kill()
        raise RuntimeError(f"server did not start: {line!r}")
    return proc, f"http://{m.group(1)}", key


def post(base, fmt, key, **fields):
    data = {"api_key": key, **fields}
    r = requests.post(f"{base}/open311/v2/requests.{fmt}", data=data, timeout=30)
    check(r.status_code == 200, f"POST {fmt}: {r.status_code} {r.text}")
    if fmt == "json":
        return r.json()[0]["service_request_id"]
    m = re.search(r"<service_request_id>(\d+)</service_request_id>", r.text)
    check(m is not None, f"POST xml: {r.text}")
    return m.group(1)


def run(base, key):
    root = f"{base}/open311/v2"
    ids = [
        post(base, "json", key, service_code="heating.no-heat",
             description="家里暖气不热，室温只有14度。", address_string="鼓楼西大街12号院3号楼",
             lat="39.9401", long="116.3892", phone="13812345678",
             **{"attribute[indoor_temperature]": "14"}),
        post(base, "xml", key, service_code="construction.noise",
             description="夜间施工噪音 <很大> & 持续", address_string="西直门内大街",
             **{"attribute[noise_sources][]": "machinery"}),
    ]
    results = {}
    for fmt in ["json", "xml"]:
        client = GeoReport(root, jurisdiction="110102", output_format=fmt)

        services = client.get_service_list()
        check(isinstance(services, list) and len(services) > 10, f"{fmt} services: {services!r}")
        codes = {s["service_code"]: s for s in services}
        check("heating.no-heat" in codes, f"{fmt}: heating.no-heat missing")
        # JSON carries booleans; XML carries text.
        check(str(codes["heating.no-heat"]["metadata"]).lower() == "true", f"{fmt} metadata")
        check(codes["heating.no-heat"]["group"] == "供暖", f"{fmt} group")

        definition = client.get_service_definition("heating.no-heat")
        attrs = definition["attributes"]
        # xmltodict: one <attribute> child is a dict, several a list.
        attrs = attrs if fmt == "json" else attrs["attribute"]
        attrs = attrs if isinstance(attrs, list) else [attrs]
        check(attrs[0]["code"] == "indoor_temperature", f"{fmt} definition: {definition!r}")

        reqs = client.get_service_requests()
        reqs = reqs if isinstance(reqs, list) else [reqs]
        check({r["service_request_id"] for r in reqs} == set(ids), f"{fmt} requests: {reqs!r}")
        for r in reqs:
            check(set(r.keys()) == set(FIELDS), f"{fmt} fields: {sorted(r.keys())}")
            check(isinstance(r["service_request_id"], str), f"{fmt}: id not a string")
            check(r["status"] == "open", f"{fmt} status")
            check(W3C.match(r["requested_datetime"]), f"{fmt} datetime {r['requested_datetime']}")
            check("13812345678" not in json.dumps(r, ensure_ascii=False), f"{fmt}: phone leaked")

        only = client.get_service_requests(service_code="construction.noise", status="open")
        only = only if isinstance(only, list) else [only]
        check([r["service_request_id"] for r in only] == [ids[1]], f"{fmt} filter: {only!r}")
        check(only[0]["description"] == "夜间施工噪音 <很大> & 持续\n噪音来源: 施工机械",
              f"{fmt} description: {only[0]['description']!r}")

        one = client.get_service_request(ids[0])
        check(one["service_request_id"] == ids[0], f"{fmt} one: {one!r}")
        # The shipped publication policy: the location at community level (鼓楼西大街 is a
        # road of 什刹海街道), no coordinates, no house number.
        check(one["lat"] in (None, "") and one["long"] in (None, ""), f"{fmt} lat/long: {one!r}")
        check(one["address"] == "什刹海街道", f"{fmt} address: {one['address']!r}")
        results[fmt] = {"services": len(services), "requests": len(reqs)}
    return results


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jiesu", help="path of the jiesu binary: start a server of its own")
    ap.add_argument("--base", help="or: base URL of a running server (then give --key)")
    ap.add_argument("--key", default=os.environ.get("GEOREPORT_API_KEY"))
    args = ap.parse_args()
    proc = None
    with tempfile.TemporaryDirectory() as folder:
        try:
            if args.jiesu:
                proc, base, key = start_server(args.jiesu, folder)
            elif args.base and args.key:
                base, key = args.base.rstrip("/"), args.key
            else:
                ap.error("give --jiesu PATH, or --base URL and --key KEY")
            started = time.time()
            results = run(base, key)
            print(json.dumps({"client": "georeport (PyPI)", "ok": True, "formats": results,
                              "seconds": round(time.time() - started, 2)}, ensure_ascii=False))
        except Exception as e:  # report and fail the run
            print(json.dumps({"client": "georeport (PyPI)", "ok": False, "error": str(e)},
                             ensure_ascii=False))
            sys.exit(1)
        finally:
            if proc:
                proc.terminate()
                proc.wait(timeout=10)


if __name__ == "__main__":
    main()
