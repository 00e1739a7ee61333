#!/usr/bin/python3
"""Drift bridge: turns drift alerts on {prefix}/devices/+/drift into retraining tasks, debounced per model.

A message with kind "alert" and state "drift" queues lifecycle.retrain for its model, at most once per model
per --cooldown seconds, however many devices alert (the devices that alerted are passed to the task, so it
collects their captured samples and rolls out to them). Window reports and other states are ignored. Each
queued task is announced as a "queued" event on {prefix}/lifecycle/{model}/events (task id, devices, alerts).

Usage:
    /usr/bin/python3 deploy-manifests/lifecycle/bridge.py --host localhost --cooldown 3600
    /usr/bin/python3 deploy-manifests/lifecycle/bridge.py --dry-run   # print what would be queued
Environment: the Celery settings of tasks.py (LIFECYCLE_BROKER_URL, ...).
"""
import argparse
import json
import os
import sys
import time


def records(message):
    """The records of a drift message: the agent publishes one record alone or a batch {"records": [...]}
    (docs/mqtt-api.md#outbox-delivery)."""
    if isinstance(message, dict) and isinstance(message.get("records"), list):
        return [r for r in message["records"] if isinstance(r, dict)]
    return [message] if isinstance(message, dict) else []


class Debouncer:
    """One trigger per model per cooldown. Pure: the clock is passed in."""

    def __init__(self, cooldown):
        self.cooldown = cooldown
        self.last = {}

    def offer(self, message, now):
        """The model to retrain for this drift message (a dict), or None when it is not a drift alert or the
        model was triggered less than cooldown seconds ago."""
        if not isinstance(message, dict) or message.get("kind") != "alert" or message.get("state") != "drift":
            return None
        model = message.get("model")
        if not isinstance(model, str) or not model:
            return None
        last = self.last.get(model)
        if last is not None and now - last < self.cooldown:
            return None
        self.last[model] = now
        return model


def main():
    parser = argparse.ArgumentParser(description="Queue retraining on drift alerts (debounced per model).")
    parser.add_argument("--host", default="localhost")
    parser.add_argument("--port", type=int, default=1883)
    parser.add_argument("--prefix", default="edgeagent/v1")
    parser.add_argument("--cooldown", type=float, default=3600, help="seconds between retrainings of one model")
    parser.add_argument("--gather", type=float, default=30,
                        help="seconds to gather alerting devices before the task is queued (default 30)")
    parser.add_argument("--dry-run", action="store_true", help="print the tasks instead of queueing them")
    args = parser.parse_args()

    import threading

    import paho.mqtt.client as mqtt

    debouncer = Debouncer(args.cooldown)
    pending = {}  # model -> set of devices alerting within the gather window
    alerts = {}  # model -> drift alerts folded into the pending retraining
    lock = threading.Lock()

    def fire(model):
        with lock:
            devices = sorted(pending.pop(model, set()))
            folded = alerts.pop(model, 0)
        if args.dry_run:
            print(json.dumps({"retrain": model, "devices": devices, "alerts": folded}), flush=True)
            return
        import tasks
        res = tasks.retrain.delay(model, None, devices, "drift")
        tasks.publish_event(model, "queued", task=res.id, devices=devices, reason="drift", alerts=folded)
        print(f"queued retrain of {model} for {len(devices)} device(s): {res.id}", flush=True)

    def on_message(_c, _u, msg):
        try:
            message = json.loads(msg.payload)
        except ValueError:
            return
        for record in records(message):
            offer(record)

    def offer(record):
        with lock:
            model = record.get("model")
            if model in pending and record.get("kind") == "alert" and record.get("state") == "drift":
                pending[model].add(record.get("deviceId"))
                alerts[model] += 1
                return
            model = debouncer.offer(record, time.monotonic())
            if model is None:
                return
            pending[model] = {record.get("deviceId")}
            alerts[model] = 1
        threading.Timer(args.gather, fire, (model,)).start()

    client = mqtt.Client(client_id="edgeagent-lifecycle-bridge", protocol=mqtt.MQTTv5)
    client.on_message = on_message
    client.on_connect = lambda c, *_: c.subscribe(f"{args.prefix}/devices/+/drift", qos=1)
    os.environ.setdefault("MQTT_HOST", args.host)  # tasks.publish_event: the same broker
    os.environ.setdefault("MQTT_PORT", str(args.port))
    os.environ.setdefault("MQTT_PREFIX", args.prefix)
    client.connect(args.host, args.port)
    print(f"bridge: watching {args.prefix}/devices/+/drift on {args.host}:{args.port}", flush=True)
    client.loop_forever()


if __name__ == "__main__":
    sys.exit(main())
