#!/usr/bin/python3
"""Celery retraining service: collect captured samples, train, evaluate, sign (two keys), publish, canary rollout.

Tasks:
    lifecycle.collect(devices, model)   capture-export from each device over MQTT 5 request/response (response
                                        topic + correlation data), page by page (after/next/more), acknowledging
                                        each page with purgeUpTo on the next request; writes captured.csv (features
                                        only: captured samples carry no ground-truth label)
    lifecycle.retrain(model, version, devices, reason)
                                        collect + train.py (refuses a candidate that is not better: the task ends
                                        with status "refused") + edgectl bundle create --baseline --acceptance
                                        --key CI_KEY + edgectl bundle sign --key RELEASE_KEY (devices trust both
                                        keys with Trust:Threshold 2) + edgectl bundle publish + edgectl rollout start
Beat: lifecycle.retrain every LIFECYCLE_RETRAIN_HOURS hours (default 24) for LIFECYCLE_MODEL.

Configuration (environment):
    LIFECYCLE_BROKER_URL / LIFECYCLE_RESULT_BACKEND   Celery broker/backend (default redis://localhost:6379/0)
    MQTT_HOST, MQTT_PORT, MQTT_PREFIX                 the devices' broker (default localhost, 1883, edgeagent/v1)
    EDGECTL                                           edgectl binary (default: edgectl on PATH)
    CI_KEY, RELEASE_KEY                               private key PEMs: CI signs, the release key co-signs
    TRUST                                             public keys for `bundle publish --trust` (comma-separated)
    LIFECYCLE_TRAIN_CSV, LIFECYCLE_HOLDOUT_CSV        labelled training and held-out sets
    LIFECYCLE_CURRENT_MODEL                           the model to beat (.onnx)
    LIFECYCLE_WORKDIR                                 where runs are kept (default /var/lib/edge-lifecycle)
    LIFECYCLE_WAVES, LIFECYCLE_SUCCESS, LIFECYCLE_ABORT, LIFECYCLE_PROBATION   rollout gates
    LIFECYCLE_LABELER                                 optional command: LABELER IN.csv OUT.csv labels captured
                                                      rows (adds 'label'); the labelled file is trained on

Run:
    celery -A tasks worker --loglevel=INFO          (in deploy-manifests/lifecycle/)
    celery -A tasks beat --loglevel=INFO
    python3 -c 'import tasks; tasks.retrain.delay("vibration", "1.1.0", ["pump-1"], "manual")'
"""
import argparse
import json
import os
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


# ---------------------------------------------------------------- tasks

def run(cmd, **kw):
    """Runs a command; returns CompletedProcess (output captured as text)."""
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


@app.task(name="lifecycle.collect")
def collect(devices, model, workdir):
    os.makedirs(workdir, exist_ok=True)
    prefix = env("MQTT_PREFIX", "edgeagent/v1")
    rows, errors = [], {}
    for device in devices:
        try:
            rows += samples_to_rows(capture_export(mqtt_client, device, model, prefix))
        except (OSError, TimeoutError, RuntimeError) as e:
            errors[device] = str(e)
    path = os.path.join(workdir, "captured.csv")
    with open(path, "w") as f:
        f.write(",".join(FEATURES) + "\n")
        for r in rows:
            f.write(",".join(f"{float(v):.4f}" for v in r) + "\n")
    return {"path": path, "rows": len(rows), "errors": errors}


@app.task(name="lifecycle.retrain", bind=True)
def retrain(self, model="vibration", version=None, devices=None, reason="manual"):
    edgectl = env("EDGECTL", "edgectl")
    work = os.path.join(env("LIFECYCLE_WORKDIR", "/var/lib/edge-lifecycle"), time.strftime("%Y%m%dT%H%M%S"))
    os.makedirs(work, exist_ok=True)
    result = {"model": model, "reason": reason, "workdir": work, "steps": []}
    train = [env("LIFECYCLE_TRAIN_CSV")]
    if devices:
        captured = collect(devices, model, work)
        result["collected"] = captured
        if env("LIFECYCLE_LABELER") and captured["rows"]:
            labelled = os.path.join(work, "captured-labelled.csv")
            r = run([env("LIFECYCLE_LABELER"), captured["path"], labelled])
            if r.returncode == 0:
                train.append(labelled)
    cand = os.path.join(work, "candidate")
    cmd = [sys.executable, os.path.join(HERE, "train.py"), "--holdout", env("LIFECYCLE_HOLDOUT_CSV"),
           "--current", env("LIFECYCLE_CURRENT_MODEL"), "--out", cand]
    for t in train:
        cmd += ["--train", t]
    r = run(cmd)
    result["steps"].append({"step": "train", "rc": r.returncode, "out": (r.stdout + r.stderr).strip()})
    if r.returncode == 3:
        return dict(result, status="refused")
    if r.returncode != 0:
        raise RuntimeError(f"train.py failed: {r.stderr.strip()}")
    version = version or f"1.{int(time.strftime('%Y%m%d'))}.{int(time.strftime('%H%M%S'))}"  # SemVer: no leading zeros
    bundle = os.path.join(work, f"{model}-{version}.edgebundle")
    broker = ["--broker", f"mqtt://{env('MQTT_HOST', 'localhost')}:{env('MQTT_PORT', '1883')}",
              "--prefix", env("MQTT_PREFIX", "edgeagent/v1")]
    trust = [a for k in filter(None, env("TRUST", "").split(",")) for a in ("--trust", k)]
    steps = [
        ("bundle create", [edgectl, "bundle", "create", "--model", os.path.join(cand, "model.onnx"), "--name", model,
                           "--version", version, "--key", env("CI_KEY"), "--out", bundle,
                           "--baseline", os.path.join(cand, "baseline.csv"),
                           "--acceptance", os.path.join(cand, "acceptance.json")]),
        ("bundle sign", [edgectl, "bundle", "sign", bundle, "--key", env("RELEASE_KEY")]),
        ("bundle publish", [edgectl, "bundle", "publish", bundle, *trust, *broker]),
    ]
    if devices:
        steps.append(("rollout start", [edgectl, "rollout", "start", "--model", model, "--version", version,
                                        "--devices", ",".join(devices),
                                        "--waves", env("LIFECYCLE_WAVES", "1,50%,100%"),
                                        "--success-threshold", env("LIFECYCLE_SUCCESS", "95%"),
                                        "--abort-threshold", env("LIFECYCLE_ABORT", "5%"),
                                        "--probation", env("LIFECYCLE_PROBATION", "60s"), "--json", *broker]))
    for name, cmd in steps:
        r = run(cmd)
        result["steps"].append({"step": name, "rc": r.returncode, "out": (r.stdout + r.stderr).strip()[-2000:]})
        if r.returncode != 0:
            return dict(result, status="rollout-aborted" if name == "rollout start" and r.returncode == 6 else "failed",
                        version=version)
    return dict(result, status="released", version=version, bundle=bundle)


def main():
    parser = argparse.ArgumentParser(description="Queue a retraining (the worker runs it).")
    parser.add_argument("--model", default="vibration")
    parser.add_argument("--version")
    parser.add_argument("--devices", default="", help="comma-separated device ids to collect from and roll out to")
    parser.add_argument("--wait", action="store_true", help="wait for the result and print it")
    args = parser.parse_args()
    res = retrain.delay(args.model, args.version, [d for d in args.devices.split(",") if d], "manual")
    print(json.dumps(res.get(timeout=3600), indent=2) if args.wait else res.id)


if __name__ == "__main__":
    main()
