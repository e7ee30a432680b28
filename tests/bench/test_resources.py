"""What each run's Ray task requests (finding: with --device auto or cuda:0 it requested no GPU, so on a GPU
node the run trained on the CPU — Ray hides the GPUs from a task that asks for none)."""

from __future__ import annotations

import pytest

from dgen.bench.engines import make_engine
from dgen.bench.resources import TaskResources, task_resources
from dgen.errors import ConfigError


@pytest.mark.parametrize("device, cluster_gpus, expected", [
    ("cpu", 0, TaskResources(4, 0.0)), ("cpu", 8, TaskResources(4, 0.0)),
    ("cuda", 8, TaskResources(4, 1.0)), ("cuda:0", 1, TaskResources(4, 1.0)),
    ("auto", 8, TaskResources(4, 1.0)), ("auto", 0, TaskResources(4, 0.0)), ("auto", 0.5, TaskResources(4, 1.0)),
])
def test_a_run_on_cuda_requests_a_gpu_and_auto_only_where_the_cluster_has_one(device, cluster_gpus, expected):
    assert task_resources(device, 4, cluster_gpus) == expected


@pytest.mark.parametrize("fraction", [0.25, 0.5, 1, 2])
def test_a_run_may_request_a_fraction_of_a_gpu(fraction):
    assert task_resources("cuda", 2, 1, gpus_per_run=fraction) == TaskResources(2, float(fraction))
    assert task_resources("auto", 2, 1, gpus_per_run=fraction).num_gpus == fraction
    assert task_resources("cpu", 2, 1, gpus_per_run=fraction).num_gpus == 0.0


@pytest.mark.parametrize("device, cluster_gpus, message", [
    ("cuda", 0, "--device cuda asks a GPU for every run, but the Ray cluster has none, so its tasks would wait "
                "forever; use --device auto or cpu, or add GPU nodes"),
    ("cuda:1", 4, "--device cuda:1: a Ray task sees only the GPU Ray gives it, as cuda:0; use --device cuda."),
    ("gpu", 4, "--device 'gpu' is not a device of dgen run; use auto, cpu or cuda."),
])
def test_a_request_no_task_could_meet_is_refused_with_the_fix(device, cluster_gpus, message):
    with pytest.raises(ConfigError) as caught:
        task_resources(device, 1, cluster_gpus)
    assert str(caught.value).startswith(message)


@pytest.mark.parametrize("fraction", [0, -1, 1.5, float("nan"), True])
def test_an_impossible_gpu_fraction_is_refused(fraction):
    with pytest.raises(ConfigError, match="is not a GPU request Ray takes; give a fraction in"):
        task_resources("cuda", 1, 4, gpus_per_run=fraction)


def test_the_ray_engine_takes_the_runs_device_and_threads():
    pytest.importorskip("dgen.bench.ray_engine")
    engine = make_engine("ray", threads=3, device="cuda")
    assert (engine.cpus, engine.device, engine.gpus_per_run) == (3, "cuda", 1.0)
    assert make_engine("ray").device == "auto"
