"""GPU leasing: each process takes a different free device; a dead holder releases its lock."""

import subprocess
import sys

import pytest
import torch

from ttur.device import lease_device
from ttur.errors import UserError


def test_cpu_requested_and_auto_without_cuda(tmp_path):
    assert lease_device("cpu", tmp_path).device == torch.device("cpu")
    lease = lease_device("auto", tmp_path, device_count=0)
    assert lease.device == torch.device("cpu")
    assert "no CUDA device" in lease.reason


def test_cuda_requested_without_cuda_is_an_error(tmp_path):
    with pytest.raises(UserError, match="no CUDA device is visible"):
        lease_device("cuda", tmp_path, device_count=0)


def test_leases_take_distinct_devices_until_none_is_left(tmp_path):
    first = lease_device("auto", tmp_path, device_count=2)
    second = lease_device("auto", tmp_path, device_count=2)
    assert {first.device.index, second.device.index} == {0, 1}
    with pytest.raises(UserError, match="all 2 visible GPUs are leased"):
        lease_device("cuda", tmp_path, device_count=2)
    first.release()
    third = lease_device("cuda", tmp_path, device_count=2)
    assert third.device.index == first.device.index
    second.release()
    third.release()


def test_lock_held_by_another_process_is_respected_and_freed_when_it_dies(tmp_path):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from ttur.device import lease_device; "
            f"lease = lease_device('auto', __import__('pathlib').Path({str(tmp_path)!r}), device_count=1); "
            "print(lease.device, flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "cuda:0"
        with pytest.raises(UserError, match="leased by other ttur processes"):
            lease_device("auto", tmp_path, device_count=1)
    finally:
        holder.kill()
        holder.wait()
    assert lease_device("auto", tmp_path, device_count=1).device.index == 0
