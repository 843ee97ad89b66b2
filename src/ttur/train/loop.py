"""`train(settings, out)`: one training run, evaluated in-process, resumable, ending cleanly on divergence.

The loop, in one screen (see docs/training.md):

    step = 0 (or the resumed step)
    loop:
        if step is 0, a multiple of eval_every, or the last step: evaluate -> metrics.csv row, samples,
            snapshots, resume state
        elif step is a multiple of checkpoint_every: resume state
        stop if step == updates (or the minute budget is spent); on SIGTERM save state and exit 143
        update()                              # the D/critic steps and one G step; step += 1
        every 100 updates: read the losses once; a NaN/inf loss ends training ("diverged at step N")
"""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ttur.device import DeviceLease, lease_device, log_device
from ttur.errors import UserError
from ttur.models import count_parameters
from ttur.train.batches import Prepared, open_prepared
from ttur.train.evaluation import FidEvaluation, JsdEvaluation, build_evaluation
from ttur.train.records import MetricsLog, now_utc, read_json, save_generator, versions, write_run_json
from ttur.train.settings import OPERATIONAL_FIELDS, TrainSettings
from ttur.train.state import ResumeStore, capture_rng, restore_rng
from ttur.train.trainer import CHECK_EVERY, Trainer

STATE_FORMAT = 1


class TrainingInterrupted(Exception):
    """SIGTERM/SIGINT arrived: the state was saved after the current update; exit non-zero so the job reruns."""

    def __init__(self, signum: int, step: int) -> None:
        super().__init__(f"stopped by signal {signal.Signals(signum).name} at step {step}; resume state saved")
        self.exit_code = 128 + signum


class StopRequest:
    """Turns SIGTERM (SLURM's preemption notice) and SIGINT into a flag the loop checks between updates."""

    SIGNALS = (signal.SIGTERM, signal.SIGINT)

    def __init__(self) -> None:
        self.signum: int | None = None
        self._previous: dict[int, Any] = {}

    def _handle(self, signum: int, frame: Any) -> None:
        self.signum = signum

    def __enter__(self) -> StopRequest:
        if threading.current_thread() is threading.main_thread():
            self._previous = {sig: signal.signal(sig, self._handle) for sig in self.SIGNALS}
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


class Clock:
    """Training seconds (updates only, evaluation and checkpoints excluded) and wall seconds, across resumes."""

    def __init__(self, device: torch.device, train_seconds: float = 0.0, wall_seconds: float = 0.0) -> None:
        self.device = device
        self.train_seconds = train_seconds
        self._wall_offset = wall_seconds - time.perf_counter()
        self._since: float | None = None

    def start(self) -> None:
        self._since = time.perf_counter()

    def stop(self) -> None:
        if self._since is not None:
            if self.device.type == "cuda":
                torch.cuda.synchronize(self.device)  # count the queued kernels as training time
            self.train_seconds += time.perf_counter() - self._since
            self._since = None

    def train_minutes(self) -> float:
        running = 0.0 if self._since is None else time.perf_counter() - self._since
        return (self.train_seconds + running) / 60.0

    def wall_minutes(self) -> float:
        return (time.perf_counter() + self._wall_offset) / 60.0


def _configure_backends(settings: TrainSettings, device: torch.device) -> None:
    """The GPU speed options of the settings (no effect on the CPU)."""
    if device.type != "cuda":
        return
    torch.backends.cudnn.benchmark = settings.cudnn_benchmark
    torch.backends.cuda.matmul.allow_tf32 = settings.tf32
    torch.backends.cudnn.allow_tf32 = settings.tf32  # PyTorch's default is True: set it either way


def _comparable(settings: dict[str, Any]) -> dict[str, Any]:
    """Settings that define the run (operational ones may change on resume), paths made absolute."""
    out = {k: v for k, v in settings.items() if k not in OPERATIONAL_FIELDS}
    for key in ("data", "stats", "weights"):
        if out.get(key) is not None:
            out[key] = os.path.abspath(out[key])
    return out


def _check_same_run(saved: dict[str, Any], settings: TrainSettings, out: Path) -> None:
    current = _comparable(settings.to_json())
    previous = _comparable(saved)
    changed = sorted(k for k in set(current) | set(previous) if current.get(k) != previous.get(k))
    if changed:
        diffs = ", ".join(f"{k} {previous.get(k)!r} -> {current.get(k)!r}" for k in changed)
        raise UserError(f"{out} holds the resume state of a different run ({diffs}); use another --out or delete it")


def _check_data(settings: TrainSettings, data: Prepared) -> None:
    want = "text" if settings.model == "lang" else "images"
    if data.kind != want:
        raise UserError(f"model {settings.model} trains on {want}, but {settings.data} holds {data.kind}")


class Run:
    """One training run in `out`: owns the trainer, the evaluation, the metrics and the resume state."""

    def __init__(self, settings: TrainSettings, out: Path, lease: DeviceLease) -> None:
        self.settings = settings
        self.out = out
        self.lease = lease
        device = lease.device
        _configure_backends(settings, device)
        self.data = open_prepared(settings.data)
        _check_data(settings, self.data)
        # Built before the training streams are seeded: extractor construction may draw from the global RNG.
        self.evaluation: FidEvaluation | JsdEvaluation = build_evaluation(settings, self.data.charmap, device)
        self.store = ResumeStore(out / ".resume")
        state = self.store.load(device)
        if state is not None:
            _check_same_run(state["settings"], settings, out)
        random.seed(settings.seed)
        np.random.seed(settings.seed % 2**32)
        self.trainer = Trainer(settings, self.data, device)  # seeds torch and initialises the networks
        self.log = MetricsLog(self.evaluation.columns)
        self.best: float | None = None
        self.clock = Clock(device)
        self.last_saved = -1
        if state is not None:
            self.trainer.load_state_dict(state["trainer"])
            self.log.rows = list(state["rows"])
            self.best = state["best"]
            self.clock = Clock(device, state["train_seconds"], state["wall_seconds"])
            self.last_saved = self.trainer.step
            restore_rng(state["rng"])
        self._write_run_record(resumed=state is not None)

    # ----------------------------------------------------------------------------------------------- outputs
    def _write_run_record(self, resumed: bool) -> None:
        path = self.out / "run.json"
        record = read_json(path) if resumed else None
        if record is None:
            pair = self.trainer.pair
            record = {
                "settings": self.settings.to_json(),
                "device": str(self.lease.device),
                "device_reason": self.lease.reason,
                "versions": versions(),
                **self.evaluation.info(),
                "data_sha256": self.data.manifest.get("sha256"),
                "data_shape": list(self.data.array.shape),
                "parameters": {
                    "generator": count_parameters(pair.generator),
                    "discriminator": count_parameters(pair.discriminator),
                },
                "schedule": {
                    "d_steps_per_generator_update": self.settings.critic_iters,
                    "check_losses_every": CHECK_EVERY,
                },
                "started": now_utc(),
                "resumes": [],
                "finished": None,
            }
        if resumed:
            record["resumes"].append(
                {"at": now_utc(), "step": self.trainer.step, "device": str(self.lease.device), "pid": os.getpid()}
            )
        self.record = record
        write_run_json(path, record)

    def _snapshot_meta(self, step: int, values: dict[str, float]) -> dict[str, Any]:
        s = self.settings
        shape = self.data.array.shape
        return {
            "model": s.model,
            "image_size": shape[1] if self.data.kind == "images" else 0,
            "width": s.width,
            "z_dim": s.z_dim,
            "vocab_size": len(self.data.charmap) if self.data.charmap is not None else 0,
            "seq_len": shape[1] if self.data.kind == "text" else 0,
            "wgan32_critic": s.wgan32_critic,
            "step": step,
            "metrics": values,
        }

    def _save_snapshots(self, step: int, values: dict[str, float]) -> None:
        pair, meta = self.trainer.pair, self._snapshot_meta(step, values)
        save_generator(self.out / "generator_last.pt", pair, meta)
        value = values.get(self.evaluation.best_key, float("nan"))
        if np.isfinite(value) and (self.best is None or value < self.best):
            self.best = float(value)
            if self.settings.snapshots in ("best", "all"):
                save_generator(self.out / "generator_best.pt", pair, meta)
        if self.settings.snapshots == "all":
            save_generator(self.out / f"generator_step{step:07d}.pt", pair, meta)

    def _save_state(self) -> None:
        self.store.save(
            {
                "format": STATE_FORMAT,
                "step": self.trainer.step,
                "settings": self.settings.to_json(),
                "trainer": self.trainer.state_dict(),
                "rng": capture_rng(),
                "rows": self.log.rows,
                "best": self.best,
                "train_seconds": self.clock.train_seconds,
                "wall_seconds": self.clock.wall_minutes() * 60.0,
            }
        )
        self.last_saved = self.trainer.step

    # ------------------------------------------------------------------------------------------- evaluation
    def _evaluate(self, step: int) -> None:
        means = self.trainer.losses.take_means()
        values, note = self.evaluation.evaluate(self.trainer.pair, step, self.out / "samples")
        notes = [note] if note else []
        if any(not np.isfinite(v) for v in values.values()) and not note:
            notes.append("metric is not finite")
        if means is None:
            notes.append("no losses: no update before this step")
        self.log.add(
            {
                "step": step,
                "minutes": self.clock.train_minutes(),
                "wall_minutes": self.clock.wall_minutes(),
                **values,
                "d_loss": None if means is None else means[0],
                "g_loss": None if means is None else means[1],
                "note": "; ".join(notes),
            }
        )
        self.log.write(self.out / "metrics.csv")
        self._save_snapshots(step, values)

    def _diverged(self, found: tuple[int, float, float], window_start: int) -> dict[str, Any]:
        offset, d_loss, g_loss = found
        step = window_start + offset + 1
        bad = ", ".join(f"{name}={value}" for name, value in (("d_loss", d_loss), ("g_loss", g_loss)))
        note = f"diverged at step {step}: {bad}"
        minutes, wall_minutes = self.clock.train_minutes(), self.clock.wall_minutes()
        self.log.add({"step": step, "minutes": minutes, "wall_minutes": wall_minutes, "note": note})
        self.log.write(self.out / "metrics.csv")
        return {"reason": "diverged", "step": step, "note": note}

    # ------------------------------------------------------------------------------------------------- loop
    def run(self) -> None:
        s, trainer, clock = self.settings, self.trainer, self.clock
        end: dict[str, Any] | None = None
        with StopRequest() as stop:
            clock.start()
            while end is None:
                step = trainer.step
                budget_spent = s.max_minutes is not None and clock.train_minutes() >= s.max_minutes
                last = step >= s.updates or budget_spent
                if (step % s.eval_every == 0 or last) and step not in self.log.steps():
                    clock.stop()
                    window_start = step - trainer.losses.pending
                    found = trainer.losses.flush()
                    if found is not None:
                        end = self._diverged(found, window_start)
                        break
                    self._evaluate(step)
                    self._save_state()
                    clock.start()
                elif step % s.checkpoint_every == 0 and step != self.last_saved:
                    clock.stop()
                    self._save_state()
                    clock.start()
                if last:
                    reason = "updates" if step >= s.updates else f"max_minutes={s.max_minutes} reached"
                    end = {"reason": reason, "step": step}
                    break
                if stop.signum is not None:
                    clock.stop()
                    self._save_state()
                    raise TrainingInterrupted(stop.signum, step)
                trainer.update()
                if trainer.step % CHECK_EVERY == 0:
                    window_start = trainer.step - trainer.losses.pending
                    found = trainer.losses.flush()
                    if found is not None:
                        clock.stop()
                        end = self._diverged(found, window_start)
            clock.stop()
        self._finish(end)

    def _finish(self, end: dict[str, Any]) -> None:
        self.record["finished"] = {
            **end,
            "at": now_utc(),
            "minutes": self.clock.train_minutes(),
            "wall_minutes": self.clock.wall_minutes(),
            "best": self.best,
        }
        write_run_json(self.out / "run.json", self.record)
        self.store.clear()  # outputs are complete; a rerun starts afresh


def train(settings: TrainSettings, out: Path) -> None:
    """Train one run into the directory `out` (created if needed), resuming from its state if there is one."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    lease = lease_device(settings.device)
    log_device(lease)
    try:
        Run(settings, out, lease).run()
    finally:
        lease.release()
