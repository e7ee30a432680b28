"""Fault injection: every fault a user can meet gets one clear line naming the file or value and the
fix, exit code 1, and nothing of the user's changed (issue 12).

One row per fault. A row prepares a working folder (``tmp_path``, the current directory), holding
``data/`` (16 generic pairs, 32 x 32) and, for the resume rows, ``run/``: a tiny run stopped by
SIGINT after 4 of its 8 iterations. It returns the ``dgen`` arguments to run. Then:

* exit code 1, exactly one ``error:`` line, no traceback;
* the line holds every expected fragment (the file or value, and the fix) and none of the
  forbidden ones (the misleading messages of before);
* every file that was in the working folder is byte-identical afterwards and no file was added
  (a row may name files that are allowed to change, e.g. a log that grew before a full disk).
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from PIL import Image

from dgen_genseg.data.synthetic_trees import write_tree
from dgen_genseg.pipeline.methods.genseg import GenSeg

STOP_AFTER = 4
RUN = ["--device", "cpu", "--no-progress"]


def fake_png(path: Path, width: int, height: int) -> Path:
    """A PNG whose header says ``width x height`` (a decompression bomb's header) around 1 pixel of data."""
    import io

    buffer = io.BytesIO()
    Image.new("L", (1, 1)).save(buffer, "PNG")
    data = bytearray(buffer.getvalue())
    data[16:24] = struct.pack(">II", width, height)  # IHDR width, height
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])) & 0xFFFFFFFF)
    path.write_bytes(bytes(data))
    return path


def _edit_checkpoint(run: Path, change: Callable[[dict], None]) -> None:
    from dgen.checkpoint import load_state, save_state

    state = load_state(run / "checkpoint.safetensors")
    change(state)
    save_state(run / "checkpoint.safetensors", state)


def _dangle(run: Path) -> None:
    """Point one entry of the checkpoint's index at a tensor the file does not hold."""
    from safetensors import safe_open
    from safetensors.torch import save_file

    path = run / "checkpoint.safetensors"
    with safe_open(str(path), framework="pt") as handle:
        meta = handle.metadata()
        tensors = {k: handle.get_tensor(k) for k in handle.keys()}
    skeleton = json.loads(meta["dgen_state"])
    name = next(iter(skeleton["trainer"]["segmenter"]))
    skeleton["trainer"]["segmenter"][name] = {"__tensor__": "/trainer/segmenter/gone"}
    save_file(tensors, str(path), metadata={"dgen_state": json.dumps(skeleton)})


def _short_moment(state: dict) -> None:
    """Cut the segmenter's first Adam ``exp_avg`` to one row: it no longer matches its parameter."""
    moments = state["trainer"]["seg_opt"]["state"][0]
    moments["exp_avg"] = moments["exp_avg"][:1]


def _nan_weight(state: dict) -> None:
    weight = next(k for k, v in state["trainer"]["segmenter"].items() if v.is_floating_point())
    state["trainer"]["segmenter"][weight][0] = float("nan")


@dataclass(frozen=True)
class Fault:
    """One row: how to make the fault, what the line must say, what it must not say."""

    name: str
    make: Callable[..., list[str]]  # (tiny, root, monkeypatch) -> dgen arguments
    says: tuple[str, ...]
    never: tuple[str, ...] = ()
    may_change: frozenset[str] = field(default_factory=frozenset)


def fresh(**overrides: str) -> Callable[..., list[str]]:
    """A fresh tiny run into ``new/`` with ``overrides``."""
    return lambda tiny, root, patch: ["run", "genseg", "--out", "new", *RUN, *tiny.set_args(**overrides)]


def resume_after(change: Callable[[Path], None]) -> Callable[..., list[str]]:
    """``run/`` changed by ``change(run)``, then resumed."""

    def make(tiny, root, patch):
        change(root / "run")
        return ["run", "genseg", "--resume", "run", *RUN]

    return make


def into(folder: str, files: dict[str, bytes]) -> Callable[..., list[str]]:
    """A fresh tiny run into ``folder``, which already holds ``files``."""

    def make(tiny, root, patch):
        (root / folder).mkdir()
        for name, data in files.items():
            (root / folder / name).write_bytes(data)
        return ["run", "genseg", "--out", folder, *RUN, *tiny.set_args()]

    return make


def out_is_a_file(tiny, root, patch):
    (root / "results").write_text("my results")
    return ["run", "genseg", "--out", "results", *RUN, *tiny.set_args()]


def read_only_out(tiny, root, patch):
    import tempfile

    def refused(*args, **kwargs):
        raise PermissionError(errno.EROFS, "Read-only file system", kwargs.get("dir"))

    (root / "mounted").mkdir()
    patch.setattr(tempfile, "mkstemp", refused)  # as on a read-only mount (root bypasses chmod)
    return ["run", "genseg", "--out", "mounted/run", *RUN, *tiny.set_args()]


def _no_space(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def full_disk_at_start(tiny, root, patch):
    import dgen.atomic

    patch.setattr(dgen.atomic.os, "fsync", _no_space)  # the first write, config.json, fails
    return ["run", "genseg", "--out", "new", *RUN, *tiny.set_args()]


def full_disk_mid_run(tiny, root, patch):
    import dgen.checkpoint

    save_file = dgen.checkpoint.save_file

    def half_then_full(tensors, path, metadata=None):
        if ".checkpoint.safetensors." not in str(path):
            return save_file(tensors, path, metadata=metadata)
        Path(path).write_bytes(b"\0" * 512)  # part of the file got out before the disk filled
        _no_space()

    patch.setattr(dgen.checkpoint, "save_file", half_then_full)  # the next checkpoint write fails
    return ["run", "genseg", "--resume", "run", *RUN]


def yaml_config(tiny, root, patch):
    (root / "options.yaml").write_text("iterations: 200\nseg_lr: 0.001\n")
    return ["run", "genseg", "--out", "new", "--config", "options.yaml", *RUN]


def bomb_and_missing_mask(tiny, root, patch):
    stems = sorted(p.stem for p in (root / "data" / "images").iterdir())
    fake_png(root / "data" / "images" / f"{stems[0]}.png", 20000, 20000)
    (root / "data" / "masks" / f"{stems[1]}.png").unlink()
    return ["run", "genseg", "--out", "new", *RUN, *tiny.set_args(task="folder", data_dir="data")]


def ansi_file_name(tiny, root, patch):
    shutil.copy(next((root / "data" / "images").iterdir()), root / "data" / "images" / "evil\x1b[2J.png")
    return ["run", "genseg", "--out", "new", *RUN, *tiny.set_args(task="folder", data_dir="data")]


def markup_in_path(tiny, root, patch):
    folder = root / "exp[/]a[bold]b"  # a folder "exp[" holding "]a[bold]b"
    folder.mkdir(parents=True)
    (folder / "notes.txt").write_text("mine")
    return ["run", "genseg", "--out", str(folder.relative_to(root)), *RUN, *tiny.set_args()]


def nnunet_folder_name(tiny, root, patch):
    return ["generate", "run", "--n", "2", "--out", "synth", "--format", "nnunet", "--device", "cpu"]


FAULTS = [
    Fault("out-holds-files-but-no-run", into("mine", {"log.csv": b"a,b\n", "metrics.json": b"{}", "segmenter.safetensors": b"w"}),
          ("--out mine is not empty (log.csv, metrics.json, segmenter.safetensors) and holds no run",
           "give a new or empty folder, e.g. --out mine/run")),
    Fault("out-is-a-file", out_is_a_file, ("--out results is a file, not a folder", "give a new folder")),
    Fault("out-read-only", read_only_out,
          ("cannot write into mounted for --out mounted/run (Read-only file system)", "give an --out in a folder you can write")),
    Fault("disk-full-at-start", full_disk_at_start,
          ("cannot write new/config.json: No space left on device", "free space on that disk",
           "then run the same command again")),
    Fault("disk-full-mid-run", full_disk_mid_run,
          ("cannot write run/checkpoint.safetensors: No space left on device", "then continue with --resume run"),
          may_change=frozenset({"run/log.csv", "run/segmenter_best.safetensors", "run/events", "run/progress.json"})),  # the resumed run trained on before the disk filled
    Fault("negative-lr", fresh(seg_lr="-0.001"), ("seg_lr=-0.001 must be > 0 (a learning rate); give e.g. --set seg_lr=0.001.",)),
    Fault("nan-lr", fresh(arch_lr="nan"), ("arch_lr=nan is not a finite number (α's learning rate", "give e.g. --set arch_lr=0.003.")),
    Fault("inf-lr", fresh(gen_lr="inf"), ("gen_lr=inf is not a finite number", "give e.g. --set gen_lr=0.0002."),
          never=("--set gen_lr=inf",)),
    Fault("negative-weight-decay", fresh(seg_weight_decay="-0.1"), ("seg_weight_decay=-0.1 must be >= 0 (a weight decay)",)),
    Fault("nan-weight-decay", fresh(gen_weight_decay="nan"), ("gen_weight_decay=nan is not a finite number",)),
    Fault("negative-warmup", fresh(warmup_iterations="-1"), ("warmup_iterations=-1 must be >= 0",),
          never=("does not exist",)),
    Fault("iterations-not-a-number", fresh(iterations="ten"),
          ("option iterations='ten' is not a valid int; give e.g. --set iterations=3.",), never=("Optional",)),
    Fault("nan-lambda-before-data", fresh(task="folder", data_dir="nowhere", lambda_l1="nan"),
          ("lambda_l1=nan is not a finite number",), never=("nowhere",)),
    Fault("yaml-config", yaml_config,
          ("config file options.yaml is YAML, which --config does not read", "JSON (.json) or TOML (.toml)"),
          never=("JSON syntax", "Expecting value")),
    Fault("decompression-bomb-and-another-problem", bomb_and_missing_mask,
          ("2 problems in data", "image is 400 Mpixel, beyond the 179 Mpixel that Pillow reads", "downscale it",
           "run `dgen data check data` for the full list")),
    Fault("ansi-escape-in-file-name", ansi_file_name, ("data/images/evil\\x1b[2J.png",)),
    Fault("rich-markup-in-path", markup_in_path, ("--out exp[/]a[bold]b is not empty (notes.txt)",)),
    Fault("checkpoint-dangling-tensor", resume_after(_dangle),
          ("checkpoint run/checkpoint.safetensors is corrupt: its index names a tensor '/trainer/segmenter/gone'",
           "delete it to restart")),
    Fault("checkpoint-iteration-not-integer", resume_after(lambda run: _edit_checkpoint(run, lambda s: s.update(iteration="4"))),
          ("checkpoint run/checkpoint.safetensors cannot continue this run: its iteration is '4', not an integer",
           "delete it to restart the run")),
    Fault("checkpoint-iteration-99999", resume_after(lambda run: _edit_checkpoint(run, lambda s: s.update(iteration=99999))),
          ("its iteration is 99999, outside this run's 0..8",)),
    Fault("checkpoint-iteration-negative", resume_after(lambda run: _edit_checkpoint(run, lambda s: s.update(iteration=-3))),
          ("its iteration is -3, outside this run's 0..8",)),
    Fault("checkpoint-nan-weights", resume_after(lambda run: _edit_checkpoint(run, _nan_weight)),
          ("cannot continue this run: trainer/segmenter/", "holds NaN/Inf values", "the file was altered or damaged"),
          never=("seg_lr",)),
    Fault("checkpoint-wrong-shape", resume_after(lambda run: _edit_checkpoint(
        run, lambda s: s["trainer"]["segmenter"].update({k: v[:1] for k, v in list(s["trainer"]["segmenter"].items())[:1]}))),
          ("cannot continue this run: trainer/segmenter/", "where this run has float32")),
    Fault("checkpoint-optimizer-moment-wrong-shape", resume_after(lambda run: _edit_checkpoint(run, _short_moment)),
          ("checkpoint run/checkpoint.safetensors cannot continue this run: optimizer seg_opt (Adam): "
           "trainer/seg_opt/state/0/exp_avg is float32 (1, 3, 3, 3) where its parameter is float32 (24, 3, 3, 3)",
           "delete it to restart the run from its first iteration"),
          never=("Traceback", "another version of dgen")),
    Fault("nnunet-folder-name", nnunet_folder_name,
          ("--out synth: nnU-Net v2 reads a raw dataset only from a folder named DatasetNNN_Name",
           "--out Dataset501_Synth")),
]


@pytest.fixture(scope="module")
def stopped(tiny, tmp_path_factory) -> Path:
    """``ROOT/data`` (16 generic pairs) and ``ROOT/run``: a tiny shapes run stopped after 4 of 8 iterations."""
    from dgen_genseg.pipeline.loop import Interrupted

    root = tmp_path_factory.mktemp("faults")
    write_tree("generic", root / "data", n=16, size=32)
    step = GenSeg.step

    def stopping(trainer, iteration):
        if iteration == STOP_AFTER - 1:
            os.kill(os.getpid(), signal.SIGINT)
        return step(trainer, iteration)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(GenSeg, "step", stopping)
        with pytest.raises(Interrupted):
            tiny.run(root / "run")
    return root


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])
def test_a_fault_is_one_line_naming_the_fix_and_changes_nothing(fault, tiny, stopped, tmp_path, monkeypatch):
    shutil.copytree(stopped, tmp_path / "w")
    root = tmp_path / "w"
    monkeypatch.chdir(root)
    with monkeypatch.context() as patch:
        args = fault.make(tiny, root, patch)
        before = _files(root)
        result = tiny.cli(*args)
    assert "\x1b" not in result.stderr, "a control character reached the terminal"
    line = tiny.error_line(result)
    for fragment in fault.says:
        assert fragment in line, (fragment, line)
    for fragment in fault.never:
        assert fragment not in line, (fragment, line)
    after = _files(root)
    allowed = lambda name: any(name == m or name.startswith(m + "/") for m in fault.may_change)  # noqa: E731
    assert {k for k in after if not allowed(k)} == {k for k in before if not allowed(k)}, "files were added or removed"
    assert {k: v for k, v in after.items() if not allowed(k)} == {k: v for k, v in before.items() if not allowed(k)}


# -- faults that are not one error line -----------------------------------------------------------

def test_a_start_that_fails_with_any_exception_leaves_nothing_so_the_command_can_be_rerun(tiny, tmp_path, monkeypatch):
    """Not only dgen's own errors: a bug or a library's exception during the start must not leave a
    config.json behind that refuses the next try as 'already holds a run'."""
    from dgen_genseg.pipeline import genseg

    monkeypatch.chdir(tmp_path)
    (tmp_path / "made").mkdir()  # the user's empty folder stays; the folders the run made go

    def broken(*args, **kwargs):
        raise RuntimeError("a library failed")

    with monkeypatch.context() as patch:
        patch.setattr(genseg, "build_trainer", broken)
        for out in ("new/deeper", "made"):
            result = tiny.cli("run", "genseg", "--out", out, *RUN, *tiny.set_args())
            assert isinstance(result.exception, RuntimeError)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["made"] and not list((tmp_path / "made").iterdir())


def test_a_12000_pixel_image_is_read_without_a_raw_pillow_warning(tmp_path):
    """Pillow warns above 89 Mpixel (DecompressionBombWarning); dgen reads such an image, silently."""
    import warnings

    from dgen_genseg.data.io import ImageReadError, read_array

    path = fake_png(tmp_path / "large.png", 12000, 12000)  # the header of a 144 Mpixel image
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ImageReadError, match="truncated"):  # it gets as far as decoding: not refused for its size
            read_array(path)
    assert [w for w in caught if "decompression" in str(w.message).lower()] == []


def test_the_data_check_lists_a_decompression_bomb_among_the_other_problems(tiny, stopped, tmp_path, monkeypatch):
    shutil.copytree(stopped / "data", tmp_path / "data")
    monkeypatch.chdir(tmp_path)
    bomb_and_missing_mask(tiny, tmp_path, None)
    result = tiny.cli("data", "check", "data")
    assert result.exit_code == 1 and "Traceback" not in result.output
    lines = [line for line in result.stdout.splitlines() if line.startswith("error: data/")]
    assert len(lines) == 2, result.stdout
    assert any("image is 400 Mpixel, beyond the 179 Mpixel that Pillow reads" in line for line in lines)
    assert any("has no mask file" in line for line in lines)


def test_a_read_only_out_is_refused_when_permissions_apply(tiny, tmp_path, monkeypatch):
    if os.geteuid() == 0:
        pytest.skip("root writes into read-only folders; the row 'out-read-only' simulates a read-only mount instead")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "locked").mkdir(mode=0o555)
    line = tiny.error_line(tiny.cli("run", "genseg", "--out", "locked/run", *RUN, *tiny.set_args()))
    assert "cannot write into locked for --out locked/run (Permission denied)" in line
    assert list((tmp_path / "locked").iterdir()) == []


def test_every_numeric_option_has_a_range_rule():
    from dgen.ranges import unruled_fields
    from dgen_genseg.pipeline.config import GenSegConfig
    from dgen_genseg.pipeline.option_rules import OPTION_RULES

    assert unruled_fields(GenSegConfig, OPTION_RULES) == []
    assert set(OPTION_RULES) <= {f for f in GenSegConfig.__dataclass_fields__}


@pytest.mark.parametrize("name", ["seg_lr", "gen_lr", "arch_lr", "lambda_l1", "gamma", "seg_weight_decay"])
@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_no_float_option_takes_nan_or_inf(name, value):
    from dgen.config import build_config
    from dgen.errors import ConfigError
    from dgen_genseg.pipeline.config import GenSegConfig

    with pytest.raises(ConfigError, match=f"^{name}=.* is not a finite number"):
        build_config(GenSegConfig, {name: value})


def test_without_a_terminal_a_run_prints_plain_progress_lines_and_finishes_without_its_resume_files(tiny, tmp_path):
    """CliRunner's stdout is not a terminal, as under Slurm or nohup: a line every log_every iterations
    with the losses, the validation score and the ETA; the finished run keeps what a user needs."""
    run = tmp_path / "run"
    result = tiny.cli("run", "genseg", "--out", str(run), "--device", "cpu", *tiny.set_args(log_every="3"))
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if line.startswith("iteration ")]
    assert [line.split()[1] for line in lines] == ["3/8", "6/8", "8/8"], result.stdout
    assert "seg=" in lines[1] and "val_dice=" in lines[1] and "best=" in lines[1]
    assert "| elapsed 0:00:" in lines[1] and ", ETA 0:00:" in lines[1]
    assert lines[-1].startswith("iteration 8/8 (100%)") and lines[-1].endswith("ETA 0:00:00")
    assert "\x1b" not in result.stdout
    kept = {p.name for p in run.iterdir()}
    assert {"metrics.json", "config.json", "split.json", "log.csv", "segmenter.safetensors", "generator.safetensors",
            "genotype.json", "samples.png", "predictions.png", "progress.json"} <= kept
    assert not kept & {"checkpoint.safetensors", "segmenter_best.safetensors"}
    assert not [name for name in kept if name.endswith(".tmp")]


def test_arch_lr_zero_is_the_alpha_frozen_control_while_other_learning_rates_must_be_positive():
    from dgen.config import build_config
    from dgen.errors import ConfigError
    from dgen_genseg.pipeline.config import GenSegConfig

    assert build_config(GenSegConfig, {"arch_lr": "0"}).arch_lr == 0.0
    with pytest.raises(ConfigError, match=r"^seg_lr=0.0 must be > 0"):
        build_config(GenSegConfig, {"seg_lr": "0"})
    with pytest.raises(ConfigError, match=r"^arch_lr=-1.0 must be >= 0"):
        build_config(GenSegConfig, {"arch_lr": "-1"})
