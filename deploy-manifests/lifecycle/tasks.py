#!/usr/bin/python3
"""Celery retraining service: collect captured samples, train, evaluate, sign (two keys), publish, canary rollout.

Tasks:
    lifecycle.collect(devices, model)   capture-export from each device over MQTT 5 request/response (response
                                        topic + correlation data), page by page (after/next/more), acknowledging
                                        each page with purgeUpTo on the next request; writes captured.csv (features
                                        only: captured samples carry no ground-truth label)
    lifecycle.retrain(model, version, devices, reason, train_args)
                                        collect + label (LIFECYCLE_LABELER; every 5th labelled row joins the
                                        held-out set, the rest the training set) + train.py against the current
                                        model (refuses a candidate that is not better: status "refused") +
                                        edgectl bundle create --baseline --acceptance --key CI_KEY + edgectl bundle
                                        sign --key RELEASE_KEY (devices trust both keys with Trust:Threshold 2) +
                                        edgectl bundle publish + edgectl rollout start. The drift baseline is the
                                        captured samples (what the devices see now) when there are at least
                                        LIFECYCLE_MIN_BASELINE_ROWS (200), else the held-out set. A release becomes
                                        the model to beat next time ({LIFECYCLE_WORKDIR}/{model}/current.json) and
                                        its version is the current one with the minor number raised (1.0.0 -> 1.1.0)
                                        unless given.
Events: each step is published on {MQTT_PREFIX}/lifecycle/{model}/events (QoS 1, not retained): started,
        collected, labelled, evaluated | refused, bundled, signed, published, rollout-started, rollout-finished,
        released | failed | rollout-aborted (docs/lifecycle.md#events).
Beat: lifecycle.retrain every LIFECYCLE_RETRAIN_HOURS hours (default 24) for LIFECYCLE_MODEL.

Configuration (environment):
    LIFECYCLE_BROKER_URL / LIFECYCLE_RESULT_BACKEND   Celery broker/backend (default redis://localhost:6379/0)
    MQTT_HOST, MQTT_PORT, MQTT_PREFIX                 the devices' broker (default localhost, 1883, edgeagent/v1)
    EDGECTL                                           edgectl command (default: edgectl on PATH; may carry
                                                      arguments, e.g. "dotnet /opt/edgectl/edgectl.dll")
    CI_KEY, RELEASE_KEY                               private key PEMs: CI signs, the release key co-signs
    TRUST                                             public keys for `bundle publish --trust` (comma-separated)
    LIFECYCLE_TRAIN_CSV, LIFECYCLE_HOLDOUT_CSV        labelled training and held-out sets
    LIFECYCLE_CURRENT_MODEL, LIFECYCLE_CURRENT_VERSION   the model to beat (.onnx) and its version (1.0.0) until
                                                      this service has released one
    LIFECYCLE_WORKDIR                                 state and runs (default /var/lib/edge-lifecycle):
                                                      {model}/current.json, {model}/runs/{time}-{task}/
    LIFECYCLE_WAVES, LIFECYCLE_SUCCESS, LIFECYCLE_ABORT, LIFECYCLE_PROBATION   rollout gates
    LIFECYCLE_LABELER                                 optional command (may carry arguments): LABELER IN.csv
                                                      OUT.csv labels captured rows (adds 'label'), e.g.
                                                      "python3 label_from_truth.py --truth labels.csv"

Run:
    celery -A tasks worker --loglevel=INFO          (in deploy-manifests/lifecycle/)
    celery -A tasks beat --loglevel=INFO
    python3 tasks.py --model vibration --devices pump-1,pump-2 --wait
"""
import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
import uuid

from celery import Celery

HERE = os.path.dirname(os.path.abspath(__file__))
FEATURES = ["rms", "peak", "crest", "kurtosis", "skewness", "freq_khz", "low_band", "high_band"]


def env(name, default=None):
    return os.environ.get(name, default)


app = Celery("lifecycle",
             broker=env("LIFECYCLE_BROKER_URL", "redis://localhost:6379/0"),
             backend=env("LIFECYCLE_RESULT_BACKEND", env("LIFECYCLE_BROKER_URL", "redis://localhost:6379/0")))
app.conf.task_acks_late = True
app.conf.worker_prefetch_multiplier = 1
app.conf.beat_schedule = {
    "periodic-retrain": {
        "task": "lifecycle.retrain",
        "schedule": float(env("LIFECYCLE_RETRAIN_HOURS", "24")) * 3600,
        "kwargs": {"model": env("LIFECYCLE_MODEL", "vibration"), "reason": "schedule"},
    },
}


# ---------------------------------------------------------------- capture-export over MQTT 5

def capture_export(client_factory, device, model, prefix, limit=500, timeout=15.0):
    """All captured samples of model on device, oldest first. Each page is acknowledged (purgeUpTo) by the next
    request; the last page is acknowledged by a final request with limit 1 whose answer is dropped."""
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    answers = {}
    response_topic = f"{prefix}/devices/{device}/responses/{uuid.uuid4().hex}"

    def on_message(_c, _u, msg):
        corr = getattr(msg.properties, "CorrelationData", None)
        if corr is not None:
            answers[bytes(corr)] = json.loads(msg.payload or b"{}")

    client = client_factory()
    client.on_message = on_message
    client.subscribe(response_topic, qos=1)
    client.loop_start()
    try:
        samples, after, purge = [], 0, None
        while True:
            args = {"model": model, "after": after, "limit": limit}
            if purge is not None:
                args["purgeUpTo"] = purge
            corr = os.urandom(16)
            props = Properties(PacketTypes.PUBLISH)
            props.ResponseTopic = response_topic
            props.CorrelationData = corr
            info = client.publish(f"{prefix}/devices/{device}/cmd/capture-export", json.dumps(args), qos=1,
                                  properties=props)
            info.wait_for_publish(timeout)
            deadline = time.monotonic() + timeout
            while corr not in answers and time.monotonic() < deadline:
                time.sleep(0.05)
            if corr not in answers:
                raise TimeoutError(f"no answer from {device} within {timeout} s")
            answer = answers.pop(corr)
            if not answer.get("ok"):
                raise RuntimeError(f"{device} answered capture-export: {answer.get('error')}")
            samples += answer.get("samples", [])
            if answer.get("next") is not None:
                after = purge = answer["next"]
            if not answer.get("more"):
                break
        if purge is not None:  # acknowledge the last page
            props = Properties(PacketTypes.PUBLISH)
            props.ResponseTopic = response_topic
            props.CorrelationData = os.urandom(16)
            client.publish(f"{prefix}/devices/{device}/cmd/capture-export",
                           json.dumps({"model": model, "after": purge, "limit": 1, "purgeUpTo": purge}), qos=1,
                           properties=props).wait_for_publish(timeout)
        return samples
    finally:
        client.loop_stop()
        client.disconnect()


def mqtt_client():
    import paho.mqtt.client as mqtt
    client = mqtt.Client(client_id=f"lifecycle-{uuid.uuid4().hex[:8]}", protocol=mqtt.MQTTv5)
    if env("MQTT_USERNAME"):
        client.username_pw_set(env("MQTT_USERNAME"), env("MQTT_PASSWORD"))
    client.connect(env("MQTT_HOST", "localhost"), int(env("MQTT_PORT", "1883")))
    return client


def samples_to_rows(samples):
    """Feature rows [8 floats] from captured samples (each request carries 'features' [n, 8])."""
    rows = []
    for s in samples:
        for tensor in (s.get("request") or {}).get("inputs", []):
            if tensor.get("name") != "features" or s.get("redacted"):
                continue
            data = tensor.get("data", [])
            rows += [data[i:i + 8] for i in range(0, len(data) - len(data) % 8, 8)]
    return rows


# ---------------------------------------------------------------- state, events, data

def model_home(model):
    """{LIFECYCLE_WORKDIR}/{model}: current.json (the released model to beat) and runs/."""
    return os.path.join(env("LIFECYCLE_WORKDIR", "/var/lib/edge-lifecycle"), model)


def current_model(model):
    """(path of the .onnx to beat, its version): the last release of this service, else LIFECYCLE_CURRENT_MODEL
    and LIFECYCLE_CURRENT_VERSION (default 1.0.0)."""
    try:
        with open(os.path.join(model_home(model), "current.json")) as f:
            cur = json.load(f)
        return cur["model"], cur["version"]
    except (OSError, ValueError, KeyError):
        return env("LIFECYCLE_CURRENT_MODEL"), env("LIFECYCLE_CURRENT_VERSION", "1.0.0")


def set_current(model, onnx_path, version):
    home = model_home(model)
    os.makedirs(home, exist_ok=True)
    kept = os.path.join(home, f"{model}-{version}.onnx")
    shutil.copyfile(onnx_path, kept)
    tmp = os.path.join(home, "current.json.tmp")
    with open(tmp, "w") as f:
        json.dump({"model": kept, "version": version}, f)
    os.replace(tmp, os.path.join(home, "current.json"))


def next_version(version):
    """1.4.2 -> 1.5.0 (a pre-release suffix is dropped)."""
    parts = version.split("-")[0].split("+")[0].split(".")
    major, minor = int(parts[0]), int(parts[1]) if len(parts) > 1 else 0
    return f"{major}.{minor + 1}.0"


def publish_event(model, event, **fields):
    """One lifecycle event on {prefix}/lifecycle/{model}/events (QoS 1, not retained) for dashboards, n8n and
    edgectl demo --lifecycle. Best effort: a broker that is away loses the event, never the task."""
    import paho.mqtt.publish as publish
    payload = dict(fields, event=event, model=model, at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    auth = {"username": env("MQTT_USERNAME"), "password": env("MQTT_PASSWORD")} if env("MQTT_USERNAME") else None
    try:
        publish.single(f"{env('MQTT_PREFIX', 'edgeagent/v1')}/lifecycle/{model}/events", json.dumps(payload), qos=1,
                       hostname=env("MQTT_HOST", "localhost"), port=int(env("MQTT_PORT", "1883")), auth=auth,
                       client_id=f"lifecycle-ev-{uuid.uuid4().hex[:8]}")
    except OSError:
        pass
    return payload


def read_rows(path):
    """(header, rows as lists of strings) of a CSV with a header row."""
    with open(path) as f:
        header = f.readline().strip()
        return header, [line.strip() for line in f if line.strip()]


def split_labelled(path, train_path, holdout_path, every=5):
    """Every `every`-th labelled captured row goes to the held-out set, the rest to training; returns the counts."""
    header, rows = read_rows(path)
    held = [r for i, r in enumerate(rows) if i % every == every - 1]
    kept = [r for i, r in enumerate(rows) if i % every != every - 1]
    for out, part in ((train_path, kept), (holdout_path, held)):
        with open(out, "w") as f:
            f.write(header + "\n" + "".join(r + "\n" for r in part))
    return len(kept), len(held)


# ---------------------------------------------------------------- tasks

def run(cmd, **kw):
    """Runs a command; returns CompletedProcess (output captured as text)."""
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


@app.task(name="lifecycle.collect")
def collect(devices, model, workdir):
    os.makedirs(workdir, exist_ok=True)
    prefix = env("MQTT_PREFIX", "edgeagent/v1")
    rows, errors, per_device = [], {}, {}
    for device in devices:
        try:
            got = samples_to_rows(capture_export(mqtt_client, device, model, prefix))
            per_device[device] = len(got)
            rows += got
        except (OSError, TimeoutError, RuntimeError) as e:
            errors[device] = str(e)
    path = os.path.join(workdir, "captured.csv")
    with open(path, "w") as f:
        f.write(",".join(FEATURES) + "\n")
        for r in rows:
            f.write(",".join(f"{float(v):.4f}" for v in r) + "\n")
    return {"path": path, "rows": len(rows), "devices": per_device, "errors": errors}


@app.task(name="lifecycle.retrain", bind=True)
def retrain(self, model="vibration", version=None, devices=None, reason="manual", train_args=None):
    """Collect, label, train, evaluate, bundle (CI key), co-sign (release key), publish, canary rollout.
    Returns {"status": "released" | "refused" | "failed" | "rollout-aborted", "steps": [...], ...}."""
    edgectl = shlex.split(env("EDGECTL", "edgectl"))
    current, current_version = current_model(model)
    run_id = time.strftime("%Y%m%dT%H%M%S") + "-" + (self.request.id or uuid.uuid4().hex)[:8]
    work = os.path.join(model_home(model), "runs", run_id)
    os.makedirs(work, exist_ok=True)
    result = {"model": model, "reason": reason, "workdir": work, "current": current_version, "steps": []}
    publish_event(model, "started", reason=reason, devices=devices or [], current=current_version, task=self.request.id)
    train, holdout, baseline = [env("LIFECYCLE_TRAIN_CSV")], [env("LIFECYCLE_HOLDOUT_CSV")], None
    if devices:
        captured = collect(devices, model, work)
        result["collected"] = captured
        publish_event(model, "collected", rows=captured["rows"], devices=captured["devices"], errors=captured["errors"])
        if captured["rows"] >= int(env("LIFECYCLE_MIN_BASELINE_ROWS", "200")):
            baseline = captured["path"]  # what the devices see now becomes the new drift baseline
        if env("LIFECYCLE_LABELER") and captured["rows"]:
            labelled = os.path.join(work, "captured-labelled.csv")
            r = run(shlex.split(env("LIFECYCLE_LABELER")) + [captured["path"], labelled])
            result["steps"].append({"step": "label", "rc": r.returncode, "out": (r.stdout + r.stderr).strip()[-2000:]})
            if r.returncode == 0:
                n_train, n_held = split_labelled(labelled, os.path.join(work, "captured-train.csv"),
                                                 os.path.join(work, "captured-holdout.csv"))
                train.append(os.path.join(work, "captured-train.csv"))
                holdout.append(os.path.join(work, "captured-holdout.csv"))
                publish_event(model, "labelled", train=n_train, holdout=n_held)
    cand = os.path.join(work, "candidate")
    cmd = [sys.executable, os.path.join(HERE, "train.py"), "--current", current, "--out", cand]
    for t in train:
        cmd += ["--train", t]
    for h in holdout:
        cmd += ["--holdout", h]
    if baseline:
        cmd += ["--baseline-data", baseline]
    cmd += list(train_args or [])
    r = run(cmd)
    result["steps"].append({"step": "train", "rc": r.returncode, "out": (r.stdout + r.stderr).strip()})
    evaluation = None
    try:
        with open(os.path.join(cand, "evaluation.json")) as f:
            evaluation = json.load(f)
        result["evaluation"] = evaluation
    except (OSError, ValueError):
        pass
    if r.returncode == 3:
        publish_event(model, "refused", reason=evaluation and evaluation.get("reason"), evaluation=evaluation)
        return dict(result, status="refused")
    if r.returncode != 0:
        publish_event(model, "failed", step="train", error=r.stderr.strip()[-500:])
        raise RuntimeError(f"train.py failed: {r.stderr.strip()}")
    version = version or next_version(current_version)
    publish_event(model, "evaluated", version=version, evaluation=evaluation)
    bundle = os.path.join(work, f"{model}-{version}.edgebundle")
    broker = ["--broker", f"mqtt://{env('MQTT_HOST', 'localhost')}:{env('MQTT_PORT', '1883')}",
              "--prefix", env("MQTT_PREFIX", "edgeagent/v1")]
    trust = [a for k in filter(None, env("TRUST", "").split(",")) for a in ("--trust", k)]
    steps = [
        ("bundle create", "bundled", [*edgectl, "bundle", "create", "--model", os.path.join(cand, "model.onnx"),
                                      "--name", model, "--version", version, "--key", env("CI_KEY"), "--out", bundle,
                                      "--baseline", os.path.join(cand, "baseline.csv"),
                                      "--acceptance", os.path.join(cand, "acceptance.json")]),
    ]
    if env("RELEASE_KEY"):
        steps.append(("bundle sign", "signed", [*edgectl, "bundle", "sign", bundle, "--key", env("RELEASE_KEY")]))
    steps.append(("bundle publish", "published", [*edgectl, "bundle", "publish", bundle, *trust, *broker]))
    if devices:
        steps.append(("rollout start", "rollout-finished",
                      [*edgectl, "rollout", "start", "--model", model, "--version", version,
                       "--devices", ",".join(devices), "--id", f"{model}-{version}-{run_id.split('-')[-1]}",
                       "--waves", env("LIFECYCLE_WAVES", "1,50%,100%"),
                       "--success-threshold", env("LIFECYCLE_SUCCESS", "95%"),
                       "--abort-threshold", env("LIFECYCLE_ABORT", "5%"),
                       "--probation", env("LIFECYCLE_PROBATION", "60s"), "--json", *broker]))
    for name, event, cmd in steps:
        if name == "rollout start":
            publish_event(model, "rollout-started", version=version, rollout=cmd[cmd.index("--id") + 1],
                          devices=devices)
        r = run(cmd)
        out = (r.stdout + r.stderr).strip()
        result["steps"].append({"step": name, "rc": r.returncode, "out": out[-2000:]})
        publish_event(model, event, version=version, rc=r.returncode, out=out[-300:])
        if r.returncode != 0:
            status = "rollout-aborted" if name == "rollout start" and r.returncode == 6 else "failed"
            publish_event(model, status, version=version, step=name)
            return dict(result, status=status, version=version, bundle=bundle)
    set_current(model, os.path.join(cand, "model.onnx"), version)
    publish_event(model, "released", version=version, previous=current_version, devices=devices or [])
    return dict(result, status="released", version=version, bundle=bundle)


def main():
    parser = argparse.ArgumentParser(description="Queue a retraining (the worker runs it).")
    parser.add_argument("--model", default="vibration")
    parser.add_argument("--version")
    parser.add_argument("--devices", default="", help="comma-separated device ids to collect from and roll out to")
    parser.add_argument("--train-arg", action="append", default=[],
                        help="extra train.py argument, repeatable (e.g. --train-arg=--kind --train-arg=logreg)")
    parser.add_argument("--reason", default="manual")
    parser.add_argument("--wait", action="store_true", help="wait for the result and print it")
    args = parser.parse_args()
    res = retrain.delay(args.model, args.version, [d for d in args.devices.split(",") if d], args.reason,
                        args.train_arg)
    print(json.dumps(res.get(timeout=3600), indent=2) if args.wait else res.id)


if __name__ == "__main__":
    main()
