#!/usr/bin/env python3
"""`batching serve` loses nothing it acknowledged across kill -9.

serve_crash_test.py BATCHING_BINARY [CYCLES] [SEED]

CYCLES times (default 20): serve starts on a journal, a client posts up to
30 jobs of 100 operations (ids unique over the whole test) 30 ms apart,
and serve is killed (SIGKILL) at a random moment (seeded); a final serve
then finishes what is left. Checks against a backend that records every id
it accepts (record_server.py):
  - every id of every job answered 202 reached the backend at least once;
  - duplicates stay within what can be in flight at each kill
    (max_connections x 100 items per cycle);
  - every acknowledged job ends `completed`, under the id it was given;
  - job ids never repeat across restarts;
  - some restart said it resumed unfinished jobs.
Then: a journal on a full disk (a small tmpfs this test mounts; skipped with
a note where mounting is not permitted) refuses new jobs with 503
journal_unavailable while finishing the ones it holds, and accepts again
once there is room; a damaged journal stops serve at start with a message
naming it.
"""
import collections
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

binary = sys.argv[1]
cycles = int(sys.argv[2]) if len(sys.argv) > 2 else 20
rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 20261201)
here = os.path.dirname(os.path.abspath(__file__))
work = tempfile.mkdtemp(prefix="serve-crash-")
connections = 4
children = []


def fail(message):
    print(f"serve_crash_test: FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def cleanup():
    for p in children:
        if p.poll() is None:
            p.kill()
            p.wait()
    subprocess.run(["umount", "-l", os.path.join(work, "small")],
                   stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    subprocess.run(["rm", "-rf", work])


def start_backend():
    port_file = os.path.join(work, "port")
    p = subprocess.Popen([sys.executable, os.path.join(here, "record_server.py"),
                          port_file, os.path.join(work, "received.log"), "0.02"])
    children.append(p)
    for _ in range(100):
        if os.path.exists(port_file) and os.path.getsize(port_file) > 0:
            return int(open(port_file).read())
        time.sleep(0.1)
    fail("the recording backend did not start")


def write_config(port):
    path = os.path.join(work, "api.yaml")
    with open(path, "w") as f:
        f.write(f"""backends:
  default:
    initial_requests_per_second: 60
    http:
      url: http://127.0.0.1:{port}/
      body_template: '{{"ids": {{{{ids}}}}}}'
      max_connections: {connections}
""")
    return path


def start_serve(config, journal, log_name):
    log = open(os.path.join(work, log_name), "w")
    p = subprocess.Popen([binary, "serve", "--config", config, "--listen",
                          "127.0.0.1:0", "--no-resources", "--journal",
                          journal], stdout=log, stderr=subprocess.STDOUT)
    children.append(p)
    for _ in range(200):
        text = open(os.path.join(work, log_name)).read()
        m = re.search(r"listening on http://127\.0\.0\.1:(\d+)/", text)
        if m:
            return p, f"http://127.0.0.1:{m.group(1)}"
        if p.poll() is not None:
            fail(f"serve exited {p.returncode} at start:\n{text}")
        time.sleep(0.05)
    fail("serve did not start listening")


def post_job(base, ids):
    body = json.dumps({"type": "write", "operations":
                       [{"id": i, "payload": {"n": i}} for i in ids]}).encode()
    req = urllib.request.Request(base + "/v1/jobs", data=body,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def job_status(base, job_id):
    try:
        with urllib.request.urlopen(f"{base}/v1/jobs/{job_id}", timeout=10) as r:
            return json.loads(r.read())
    except urllib.error.HTTPError as e:
        return {"status": f"HTTP {e.code}"}


next_id = 1
acked = {}  # job id -> its operation ids


def client(base, stop):
    """Posts up to 30 jobs, a few dozen milliseconds apart, until serve stops
    answering; records what was acked."""
    global next_id
    for _ in range(30):
        if stop.is_set():
            return
        time.sleep(0.03)
        ids = list(range(next_id, next_id + 100))
        next_id += 100
        try:
            status, body = post_job(base, ids)
        except (OSError, ValueError):
            return  # killed mid-request: not acknowledged
        if status == 202:
            if body["job_id"] in acked:
                fail(f"job id {body['job_id']} given twice")
            acked[body["job_id"]] = ids
        elif status != 503:
            fail(f"POST /v1/jobs answered {status}: {body}")
        else:
            time.sleep(0.05)  # queue full: back off like a client should


def wait_finished(base, job_ids, timeout_s):
    deadline = time.time() + timeout_s
    pending = set(job_ids)
    while pending and time.time() < deadline:
        for j in sorted(pending)[:200]:
            s = job_status(base, j)["status"]
            if s in ("completed", "failed", "cancelled"):
                if s != "completed":
                    fail(f"job {j} ended {s}")
                pending.discard(j)
        if pending:
            time.sleep(0.2)
    return pending


def received_counts():
    with open(os.path.join(work, "received.log")) as f:
        return collections.Counter(int(x) for x in f if x.strip())


def crash_cycles(config):
    journal = os.path.join(work, "serve.journal")
    resumed = False
    for cycle in range(1, cycles + 1):
        p, base = start_serve(config, journal, f"serve{cycle}.log")
        stop = threading.Event()
        t = threading.Thread(target=client, args=(base, stop))
        t.start()
        time.sleep(rng.uniform(0.2, 1.5))
        p.send_signal(signal.SIGKILL)
        p.wait()
        stop.set()
        t.join()
        text = open(os.path.join(work, f"serve{cycle}.log")).read()
        resumed = resumed or "resumed" in text
        print(f"cycle {cycle}: killed; {len(acked)} jobs acknowledged, "
              f"backend holds {sum(received_counts().values())} ids")
    p, base = start_serve(config, journal, "final.log")
    resumed = resumed or "resumed" in open(os.path.join(work, "final.log")).read()
    left = wait_finished(base, list(acked), 240)
    p.send_signal(signal.SIGTERM)
    p.wait()
    if p.returncode != 0:
        fail(f"the final serve exited {p.returncode}")
    if left:
        fail(f"{len(left)} acknowledged jobs did not finish, e.g. "
             f"{sorted(left)[:5]}")
    if not resumed:
        fail("no restart said it resumed unfinished jobs")
    counts = received_counts()
    wanted = [i for ids in acked.values() for i in ids]
    missing = [i for i in wanted if counts[i] == 0]
    duplicates = sum(c - 1 for c in counts.values() if c > 1)
    bound = cycles * connections * 100
    print(f"jobs acknowledged {len(acked)} ({len(wanted)} operations), ids "
          f"received {sum(counts.values())}, duplicates {duplicates} "
          f"(bound {bound})")
    if missing:
        fail(f"{len(missing)} acknowledged ids never reached the backend, "
             f"e.g. {missing[:5]}")
    if duplicates > bound:
        fail(f"{duplicates} duplicates > {bound}")


def disk_full(config):
    small = os.path.join(work, "small")
    os.makedirs(small)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs",
                       small], stderr=subprocess.DEVNULL).returncode != 0:
        print("disk full: skipped (this machine does not let the test mount "
              "a tmpfs)")
        return
    # Leave the journal little room: it fills after some jobs.
    filler = os.path.join(small, "filler")
    with open(filler, "wb") as f:
        f.write(b"\0" * (600 * 1024))
    p, base = start_serve(config, os.path.join(small, "j.journal"), "full.log")
    accepted, refused = {}, None
    for _ in range(400):
        ids = list(range(next_id_box[0], next_id_box[0] + 100))
        next_id_box[0] += 100
        status, body = post_job(base, ids)
        if status == 202:
            accepted[body["job_id"]] = ids
        elif status == 503 and "journal_unavailable" in body.get("error", ""):
            refused = body["error"]
            break
        else:
            fail(f"disk full: POST answered {status}: {body}")
    if refused is None:
        fail("disk full: 400 jobs fitted into a 1 MB journal")
    print(f"disk full: {len(accepted)} jobs accepted, then: {refused}")
    left = wait_finished(base, list(accepted), 120)
    if left:
        fail(f"disk full: {len(left)} accepted jobs did not finish")
    counts = received_counts()
    missing = [i for ids in accepted.values() for i in ids if counts[i] == 0]
    if missing:
        fail(f"disk full: {len(missing)} accepted ids never reached the backend")
    # Room again: accepted again.
    os.remove(filler)
    status = None
    for _ in range(50):
        ids = list(range(next_id_box[0], next_id_box[0] + 100))
        next_id_box[0] += 100
        status, body = post_job(base, ids)
        if status == 202:
            break
        time.sleep(0.1)
    if status != 202:
        fail(f"disk full: with room again, POST still answered {status}")
    p.send_signal(signal.SIGTERM)
    p.wait()
    print("disk full: refused while full, accepting again with room")


def damaged(config):
    bad = os.path.join(work, "bad.journal")
    with open(bad, "wb") as f:
        f.write(rng.randbytes(8192))
    r = subprocess.run([binary, "serve", "--config", config, "--listen",
                        "127.0.0.1:0", "--no-resources", "--journal", bad],
                       capture_output=True, text=True, timeout=30)
    print(f"damaged journal: exit {r.returncode}: {r.stderr.strip()}")
    if r.returncode != 1:
        fail(f"a damaged journal: exit {r.returncode}, expected 1")
    if "bad.journal" not in r.stderr:
        fail("the error does not name the journal")


next_id_box = [0]
try:
    config = write_config(start_backend())
    crash_cycles(config)
    next_id_box[0] = next_id
    disk_full(config)
    damaged(config)
finally:
    cleanup()
print("serve_crash_test: ok")
