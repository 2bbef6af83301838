#!/usr/bin/env python3
"""Real Lambda runtime check: each function binary served through the Lambda Runtime API.

`cargo lambda watch --only-lambda-apis` emulates the Lambda control plane (the Runtime API a
function polls for its next invocation, and the Invoke API a caller posts events to). This script
starts it on loopback, then for every function binary:

  1. starts the binary as Lambda would (AWS_LAMBDA_RUNTIME_API and friends set), and at the same
     instant posts the function's first event to the Invoke API;
  2. takes the time from process start to the first response: the cold start (process start,
     configuration, runtime registration, the first request handled);
  3. posts its other events (warm invocations) and checks every response;
  4. stops the binary.

The events are the repository's own fixtures (functions/<name>/events/*.json; `{{TOKEN}}` is
replaced by a freshly signed JWT). Data the events refer to (a tenant for the company function,
a calculated payroll run for the worker) is created in a fresh database with the `payroll` binary
from the same build, so the handlers run against real PostgreSQL.

Usage: lambda_runtime_check.py --bin-dir target/debug [--functions a,b] [--markdown FILE]
Exit status: 0 when every check passed, 1 otherwise. Only the Python standard library is used.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = ROOT / "functions"
CARGO_LAMBDA_VERSION = "1.9.2"
JWT_SECRET = "lambda-runtime-check-secret-0123456789abcdef"
DATA_KEY = base64.b64encode(bytes(range(32))).decode()
BACKUP_KEY = base64.b64encode(bytes(range(32, 64))).decode()


def die(msg: str) -> None:
    print(f"lambda_runtime_check: {msg}", file=sys.stderr)
    sys.exit(1)


# ---------------------------------------------------------------------------------------------
# tools and services
# ---------------------------------------------------------------------------------------------
def cargo_lambda() -> list[str]:
    """The cargo-lambda command: an installed one, or the PyPI build in the tools cache."""
    probe = subprocess.run(["cargo", "lambda", "--version"], capture_output=True, text=True)
    if probe.returncode == 0:
        return ["cargo", "lambda"]
    tools = Path(os.environ.get("PAYROLL_TOOLS_DIR", Path.home() / ".cache" / "payroll-tools"))
    venv = tools / "venv-cargo-lambda"
    exe = venv / "bin" / "cargo-lambda"
    if not exe.exists():
        print(f"  installing cargo-lambda {CARGO_LAMBDA_VERSION} into {venv}", file=sys.stderr)
        venv.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(venv / "bin" / "pip"), "install", "-q", f"cargo-lambda=={CARGO_LAMBDA_VERSION}"],
            check=True,
        )
    return [str(exe), "lambda"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.05)
    return False


def psql(admin_url: str, sql: str) -> None:
    subprocess.run(["psql", admin_url, "-qAtc", sql], check=True, capture_output=True)


def database_url(admin_url: str, name: str) -> str:
    base, _, _ = admin_url.rpartition("/")
    return f"{base}/{name}"


def jwt(tenant: str, role: str, employee: str | None = None) -> str:
    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    now = int(time.time())
    claims = {"sub": "lambda-runtime-check", "tenant_id": tenant, "roles": [role],
              "iss": "payroll", "aud": "payroll-api", "iat": now, "exp": now + 900}
    if employee:
        claims["employee_id"] = employee
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64(json.dumps(claims).encode())
    sig = hmac.new(JWT_SECRET.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(sig)}"


# ---------------------------------------------------------------------------------------------
# the emulator and one function's session
# ---------------------------------------------------------------------------------------------
class Emulator:
    def __init__(self, cmd: list[str]):
        self.port = free_port()
        self.log = tempfile.NamedTemporaryFile(prefix="cargo-lambda-watch-", suffix=".log", delete=False)
        self.proc = subprocess.Popen(
            cmd + ["watch", "--only-lambda-apis", "-A", "127.0.0.1", "-P", str(self.port)],
            cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT,
        )
        if not wait_port(self.port, 30):
            self.stop()
            die(f"cargo lambda watch did not start (log: {self.log.name})")

    @property
    def runtime_api(self) -> str:
        return f"http://127.0.0.1:{self.port}/.rt"

    def invoke(self, payload: str, timeout: float = 30) -> dict:
        # With --only-lambda-apis the emulator serves one function under the name "_".
        url = f"http://127.0.0.1:{self.port}/2015-03-31/functions/_/invocations"
        req = urllib.request.Request(url, data=payload.encode(), method="POST",
                                     headers={"content-type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as e:
            # A function error (the handler refused the event): the emulator answers 500 with
            # the error document the runtime posted ({"errorType", "errorMessage"}).
            try:
                doc = json.loads(e.read() or b"null")
            except ValueError:
                raise e from None
            if isinstance(doc, dict) and "errorType" in doc:
                return doc
            raise

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class Session:
    """One function binary started under the emulator."""

    def __init__(self, emu: Emulator, binary: Path, env: dict[str, str]):
        self.emu = emu
        full = dict(os.environ)
        full.update(env)
        full.update({
            "AWS_LAMBDA_RUNTIME_API": emu.runtime_api,
            "AWS_LAMBDA_FUNCTION_NAME": "_",
            "AWS_LAMBDA_FUNCTION_VERSION": "1",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
            "AWS_LAMBDA_LOG_FORMAT": "JSON",
            "RUST_LOG": "warn",
        })
        self.log = tempfile.NamedTemporaryFile(prefix=f"{binary.name}-", suffix=".log", delete=False)
        self.started = time.monotonic()
        self.proc = subprocess.Popen([str(binary)], env=full, stdout=self.log, stderr=subprocess.STDOUT)
        self.cold_ms: float | None = None

    def invoke(self, payload: str) -> dict:
        t0 = time.monotonic()
        try:
            out = self.emu.invoke(payload)
        except (urllib.error.URLError, TimeoutError) as e:
            first = Path(self.log.name).read_text(errors="replace").strip().splitlines()[:1]
            exited = self.proc.poll()
            why = f"the function exited ({exited}): {first[0] if first else ''}" if exited is not None else str(e)
            raise Failure(f"invoke failed: {why} (function log: {self.log.name})") from e
        if self.cold_ms is None:
            self.cold_ms = (time.monotonic() - self.started) * 1000
        else:
            self.warm_ms = (time.monotonic() - t0) * 1000
        return out

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class Failure(Exception):
    pass


def expect(cond: bool, what: str, got: object) -> None:
    if not cond:
        raise Failure(f"{what}; got {json.dumps(got)[:600]}")


def event(function: str, name: str, token: str = "", **fill: str) -> str:
    path = FUNCTIONS / function / "events" / name
    try:
        text = path.read_text()
    except OSError as e:
        raise Failure(f"fixture {path}: {e.strerror}") from e
    for key, value in {"TOKEN": token, **fill}.items():
        text = text.replace("{{" + key + "}}", value)
    return text


def body(resp: dict) -> object:
    try:
        return json.loads(resp.get("body") or "null")
    except json.JSONDecodeError:
        return None


# ---------------------------------------------------------------------------------------------
# per-function checks: (first event, further checks)
# ---------------------------------------------------------------------------------------------
class Context:
    def __init__(self, payroll: Path, admin_url: str):
        self.payroll = payroll
        self.admin_url = admin_url
        self.db_name = f"t_{uuid.uuid4().hex}"
        self.db_url = database_url(admin_url, self.db_name)
        self.backup_dir = Path(tempfile.mkdtemp(prefix="lambda-check-backup-"))
        self.tenant = ""
        self.stream = f"payroll-lambda-check-{uuid.uuid4().hex}"

    def setup(self) -> None:
        psql(self.admin_url, f"CREATE DATABASE {self.db_name}")
        payroll = self.payroll
        env = dict(os.environ, DATABASE_URL=self.db_url, PAYROLL_DATA_KEY=DATA_KEY,
                   PAYROLL_JWT_SECRET=JWT_SECRET)
        run = lambda *args: subprocess.run([str(payroll), *args], env=env, check=True,  # noqa: E731
                                           capture_output=True, text=True).stdout.strip()
        run("migrate")
        self.tenant = run("demo").split()[-1]
        uuid.UUID(self.tenant)

    def teardown(self) -> None:
        subprocess.run(["psql", self.admin_url, "-qAtc", f"DROP DATABASE IF EXISTS {self.db_name} WITH (FORCE)"],
                       capture_output=True)
        shutil.rmtree(self.backup_dir, ignore_errors=True)
        subprocess.run(["redis-cli", "-u", os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379"),
                        "DEL", self.stream], capture_output=True)

    def env(self) -> dict[str, str]:
        return {
            "DATABASE_URL": self.db_url,
            "PAYROLL_DATA_KEY": DATA_KEY,
            "PAYROLL_JWT_SECRET": JWT_SECRET,
            "PAYROLL_BACKUP_KEY": BACKUP_KEY,
            "BACKUP_URL": f"file://{self.backup_dir}",
            # The scheduler enqueues re-driven chunks: a Redis stream of this check's own.
            "QUEUE_URL": os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379"),
            "QUEUE_STREAM": self.stream,
        }


def check_api(function: str, s: Session, ctx: Context) -> None:
    """Every API function: a request without a token is a problem+json 401 (the cold start
    request), then its fixtures with a real token."""
    r = s.invoke(event(function, "no-token.json"))
    expect(r.get("statusCode") == 401, "no token: 401", r)
    expect(r.get("headers", {}).get("content-type") == "application/problem+json", "problem+json", r)
    admin = jwt(ctx.tenant, "payroll_admin")
    if function == "api-paychecks":
        r = s.invoke(event(function, "calculate.json", admin))
        expect(r.get("statusCode") == 200, "calculate: 200", r)
        expect(body(r).get("gross_pay") == "2000.00", "calculate: gross 2000.00", r)
        r = s.invoke(event(function, "calculate-invalid.json", admin))
        expect(r.get("statusCode") == 422, "invalid request: 422", r)
    elif function == "api-company":
        r = s.invoke(event(function, "get-company.json", admin))
        expect(r.get("statusCode") == 200, "GET /company: 200", r)
    elif function == "api-employees":
        r = s.invoke(event(function, "list-employees.json", admin))
        expect(r.get("statusCode") == 200 and len(body(r)["items"]) > 0, "demo employees listed", r)
    elif function == "api-time":
        r = s.invoke(event(function, "list-time-entries.json", admin))
        expect(r.get("statusCode") == 200, "GET /time-entries: 200", r)
    elif function == "api-audit":
        r = s.invoke(event(function, "list-audit.json", admin))
        expect(r.get("statusCode") == 200 and len(body(r)["items"]) > 0, "demo writes audited", r)
    elif function == "api-paystubs":
        r = s.invoke(event(function, "list-paystubs.json", admin, EMPLOYEE_ID=str(uuid.uuid4())))
        expect(r.get("statusCode") == 200 and body(r)["items"] == [], "GET /paystubs: 200, none", r)
        r = s.invoke(event(function, "list-payroll-runs.json", admin))
        expect(r.get("statusCode") == 404, "/payroll-runs is not this function's", r)
    elif function == "api-runs":
        fixtures = sorted((FUNCTIONS / function / "events").glob("list-*.json"))
        for f in fixtures:
            r = s.invoke(event(function, f.name, admin))
            expect(r.get("statusCode") == 200, f"{f.name}: 200", r)


def check_worker(function: str, s: Session, ctx: Context) -> None:
    """The run worker: an empty batch first (the cold start), then the `one-garbled.json`
    fixture with its chunk placeholders filled by chunks of a run that does not exist (the
    worker looks the run up in PostgreSQL and skips them: a late duplicate changes nothing),
    around one truncated body: exactly that record comes back as a batch item failure."""
    r = s.invoke(json.dumps({"Records": []}))
    expect(r == {"batchItemFailures": []}, "empty batch: no failures", r)
    raw = event(function, "one-garbled.json")
    for i in range(2):
        chunk = {"tenant_id": ctx.tenant, "run_id": str(uuid.uuid4()), "attempt": 1, "index": i,
                 "employee_ids": [str(uuid.uuid4())]}
        raw = raw.replace(f"{{{{CHUNK_{i}}}}}", json.dumps(chunk).replace('"', '\\"'))
    batch = json.loads(raw)
    garbled = [rec["messageId"] for rec in batch["Records"] if not rec["body"].endswith("}")]
    expect(len(garbled) == 1, "the fixture holds one truncated body", garbled)
    r = s.invoke(raw)
    failed = [f["itemIdentifier"] for f in r.get("batchItemFailures", [])]
    expect(failed == garbled, f"only the garbled record {garbled} reported failed", r)


def check_scheduled(function: str, s: Session, ctx: Context) -> None:
    """EventBridge-scheduled jobs: an event that is not an EventBridge event first (refused with
    an error and nothing done; the cold start is then the process getting ready, not the job's
    work), then their own scheduled event fixture succeeds."""
    r = s.invoke("{}")
    expect(isinstance(r, dict) and "errorType" in r, f"{function}: a non-EventBridge event refused", r)
    if function == "job-backup":
        manifests = [str(m) for m in ctx.backup_dir.rglob("manifest.json")]
        expect(not manifests, "no snapshot for the refused event", manifests)
    r = s.invoke(event(function, "scheduled.json"))
    expect(isinstance(r, dict) and "errorType" not in r, f"{function}: scheduled event handled", r)
    if function == "job-backup":
        manifests = list(ctx.backup_dir.rglob("manifest.json"))
        expect(len(manifests) == 1, "one snapshot with a manifest written", [str(m) for m in manifests])


def checker(function: str):
    if function.startswith("api-"):
        return check_api
    if function.startswith("worker-"):
        return check_worker
    if function.startswith("job-"):
        return check_scheduled
    return None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin-dir", default=str(ROOT / "target" / "debug"))
    ap.add_argument("--payroll", default="", help="the payroll binary that prepares the database "
                    "(default: <bin-dir>/payroll)")
    ap.add_argument("--functions", default="", help="comma-separated; default: every function crate")
    ap.add_argument("--markdown", default="", help="append a table of sizes and cold starts to this file")
    args = ap.parse_args()

    bin_dir = Path(args.bin_dir).resolve()
    names = [n for n in args.functions.split(",") if n] or sorted(
        p.name for p in FUNCTIONS.iterdir() if (p / "Cargo.toml").exists() and checker(p.name))
    payroll = Path(args.payroll or bin_dir / "payroll").resolve()
    missing = [str(bin_dir / n) for n in names if not (bin_dir / n).exists()]
    missing += [str(payroll)] * (not payroll.exists())
    if missing:
        die(f"binaries missing (build them first): {', '.join(missing)}")

    admin_url = os.environ.get("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    ctx = Context(payroll, admin_url)
    emu = Emulator(cargo_lambda())
    rows, failures = [], []
    try:
        ctx.setup()
        for name in names:
            binary = bin_dir / name
            s = Session(emu, binary, ctx.env())
            try:
                checker(name)(name, s, ctx)
                status = "ok"
            except (Failure, KeyError, TypeError, AttributeError) as e:
                status = "FAILED"
                failures.append(f"{name}: {e!r}")
                print(f"lambda_runtime_check: {name}: {e!r}", file=sys.stderr)
            finally:
                s.stop()
            size_mb = binary.stat().st_size / 1_000_000
            cold = f"{s.cold_ms:.1f}" if s.cold_ms is not None else "-"
            rows.append((name, f"{size_mb:.1f}", cold, status))
            print(f"  {name:<16} {size_mb:7.1f} MB   cold start {cold:>7} ms   {status}", file=sys.stderr)
    finally:
        emu.stop()
        ctx.teardown()

    if args.markdown:
        with open(args.markdown, "a") as f:
            f.write("| function | binary (MB) | cold start: process start to first response (ms) |\n")
            f.write("|---|---:|---:|\n")
            for name, size, cold, _ in rows:
                f.write(f"| {name} | {size} | {cold} |\n")
    for msg in failures:
        print(f"lambda_runtime_check: {msg}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
