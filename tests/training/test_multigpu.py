"""One task on several GPUs: the launch command and its environment, rank 0's output alone driving progress,
the failure line of a rank, the accounting of a split data loader, the N-GPU estimates and the queue holding
every GPU of a task (with the stand-in's tee'd launcher). The real run is tests/realtrainer/test_multigpu.py."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest

from server.errors import ValidationError
from server.training import accounting, buckets, cli_spec, config, estimate, ranks, task_types, tasks
from server.training.musubi_env import LAUNCH_MODULE
from server.training.progress import ProgressParser, last_error_line

from .conftest import add_dataset, point_at_standin, qwen_task
from .helpers import ENV, plan_for, raw_config
from .test_parsing import real
from .test_runner import drain, wait_for

QWEN = task_types.get("qwen-image-lora")


def train_stage(gpus: list[int]):
    plan = plan_for(raw_config(QWEN, "original", gpus=gpus))
    return {s.name: s for s in plan.stages}


def test_two_gpus_run_one_process_each_with_every_ranks_output_teed():
    stages = train_stage([1, 3])
    train = stages["train"]
    script = train.argv.index(str(ENV.script(train.script)))
    assert train.argv[:script] == [str(ENV.python), "-m", LAUNCH_MODULE, "--num_cpu_threads_per_process", "1",
                                   "--multi_gpu", "--num_processes", "2", "--tee", "3", "--mixed_precision", "bf16"]
    assert all(s.env["CUDA_VISIBLE_DEVICES"] == "1,3" for s in stages.values())
    # caching runs as one plain process (on the first visible GPU)
    assert "--multi_gpu" not in stages["cache_latents"].argv
    # at start: a free rendezvous port and the rank logs' folder, still a command accelerate accepts
    port = ranks.free_port()
    started = ranks.launch_args(train.argv, Path("/data/tasks/t/logs/run-001-train-ranks"), port)
    assert started[5:12] == ["--multi_gpu", "--main_process_port", str(port), "--log_dir",
                             str(Path("/data/tasks/t/logs/run-001-train-ranks")), "--num_processes", "2"]
    assert cli_spec.check_accelerate(started[3:started.index(str(ENV.script(train.script)))]) == []
    with socket.socket() as s:   # the port is free to bind
        s.bind(("127.0.0.1", port))
    assert ranks.ranks_dir(Path("/l/run-002-train.log")) == Path("/l/run-002-train-ranks")


def test_one_gpu_is_a_plain_launch():
    train = train_stage([2])["train"]
    assert not {"--multi_gpu", "--num_processes", "--tee"} & set(train.argv)
    assert train.env["CUDA_VISIBLE_DEVICES"] == "2"


def tee(text: str, rank: int) -> list[str]:
    """`text` as torchrun's --tee shows it on the console: read in text mode (a `\\r` redraw is a line of its
    own), each line prefixed with the rank."""
    return [f"[default{rank}]:{line}\n" for line in re.split(r"\r\n|\r|\n", text) if line != ""]


def two_rank_log(text: str) -> str:
    """The real one-process log as rank 0 of a two-process run, interleaved with a rank 1 that logs its
    own sampling notices and (as a stray) a steps bar of its own, plus the launcher's unprefixed lines."""
    rank1 = [line for line in tee(text, 1) if "generating sample images" in line or "INFO:" in line]
    rank1.append("[default1]:steps:  50%|#####     | 7/14 [00:01<00:01,  1.02it/s, avr_loss=9.99]\n")
    out = ["W1129 08:37:55.920000 2156 torch/distributed/run.py:803] OMP_NUM_THREADS set to 1\n"]
    rank0 = tee(text, 0)
    for i, line in enumerate(rank0):
        out.append(line)
        if i < len(rank1):
            out.append(rank1[i])
    return "".join(out + rank1[len(rank0):])


def parse(text: str, ranked: bool, size: int = 97) -> tuple[list, list, dict]:
    parser = ProgressParser("train", ranked=ranked)
    for i in range(0, len(text), size):
        parser.feed(text[i:i + size])
    parser.flush()
    notices = [n for n in parser.take_notices() if n["type"] == "sample"]
    return parser.take_losses(), notices, parser.snapshot()


def test_progress_loss_and_samples_come_from_rank_0_only():
    text = real("zimage_3_train.log")
    alone = parse(text, ranked=False)
    duo = parse(two_rank_log(text), ranked=True)
    assert duo[0] == alone[0] and [(s, e) for s, e, _ in duo[0]] == [(1, 1), (2, 1), (3, 1), (4, 1)]
    assert [n["step"] for n in duo[1]] == [n["step"] for n in alone[1]] == [2, 4, 4]
    for key in ("step", "total_steps", "epoch", "total_epochs", "items", "loss", "phase"):
        assert duo[2][key] == alone[2][key], key
    # unfiltered, rank 1's notices and bar would be counted too
    mixed = parse(two_rank_log(text), ranked=False)
    assert len(mixed[1]) > len(alone[1]) or mixed[0] != alone[0]


def test_a_failed_rank_is_named_not_torchruns_wrapper():
    # torch.distributed prefixes a rank's uncaught exception with `[rankN]: ` (as in the real run's log)
    rank1 = "\n".join(["[rank1]: Traceback (most recent call last):",
                       '[rank1]:   File "/m/src/musubi_tuner/zimage_train_network.py", line 9, in <module>',
                       "[rank1]:     main()",
                       "[rank1]: torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB"])
    tail = "".join(tee("INFO:musubi_tuner.zimage:Loaded DiT model", 0) + tee(rank1, 1)) + "\n".join([
        "Traceback (most recent call last):",
        '  File "/v/site-packages/torch/distributed/run.py", line 1129, in run',
        "    elastic_launch(",
        "torch.distributed.elastic.multiprocessing.errors.ChildFailedError: ",
        "============================================================",
        "/m/src/musubi_tuner/zimage_train_network.py FAILED",
        "Root Cause (first observed failure):",
        "  rank      : 1 (local_rank: 1)",
        "  exitcode  : 1 (pid: 4242)",
        "============================================================", ""])
    assert last_error_line(ranks.unprefixed(tail)) == \
        "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB"


def test_accounting_of_two_processes_reads_rank_0_against_the_per_process_batches(tmp_path):
    # The real log as musubi prints it with 2 processes: 4 batches split in 2, so 2 per process and 2 steps.
    one = real("zimage_3_train.log").replace("1epochのバッチ数: 4", "1epochのバッチ数: 2") \
        .replace("学習ステップ数: 4", "学習ステップ数: 2")
    (tmp_path / "run-001-train.log").write_text(two_rank_log(one), encoding="utf-8")
    (tmp_path / "run-001-cache_latents.log").write_text(real("zimage_1_cache_latents.log"), encoding="utf-8")
    sel = buckets.Selector((64, 64), False, False, 16)
    preview = buckets.preview([buckets.Item(f"{i}.png", (64, 64)) for i in range(4)], sel, batch_size=1,
                              num_repeats=1, epochs=1, processes=2)
    assert (preview["batches_per_epoch"], preview["batches_per_process"], preview["total_steps"]) == (4, 2, 2)
    assert preview["total_batch_size"] == 2
    run = {"run_no": 1, "log_dir": str(tmp_path), "gpus": [0, 1],
           "preflight": {"num_train_items": 4, "batches_per_epoch": 4, "batches_per_process": 2, "total_steps": 2,
                         "buckets": [{"key": [64, 64], "count": 4}]}}
    result = accounting.account(run)
    assert result["actual"]["buckets"] == [{"key": [64, 64], "count": 4}]   # rank 1's copy not counted twice
    assert result["differences"] == [], result


def test_estimates_count_the_gpus():
    sel = buckets.Selector((1024, 1024), False, False, 16)
    items = [buckets.Item(f"{i}.png", (1024, 1024)) for i in range(8)]

    def est(gpus):
        raw = raw_config(QWEN, "original", gpus=gpus)
        raw["samples"]["prompts"] = [{"prompt": "a"}, {"prompt": "b"}]
        resolved = config.resolve(config.check(raw))
        resolved["training"]["max_train_epochs"] = 4
        preview = buckets.preview(items, sel, batch_size=1, num_repeats=1, epochs=4, processes=len(gpus))
        return estimate.estimate(None, resolved, preview, "image")

    one, two = est([0]), est([0, 1])
    assert (one["steps"], two["steps"]) == (32, 16)
    assert two["key"]["processes"] == 2 and one["key"]["processes"] == 1
    # a step is one batch on each GPU, plus the gradient exchange between them
    assert abs(two["seconds_per_step"] - one["seconds_per_step"] * 1.1) < 0.002
    assert two["train_s"] < one["train_s"]
    # the two prompts are rendered one on each GPU at once
    assert two["sampling_s"] < one["sampling_s"] and two["samples"] * 2 == one["samples"]
    assert two["cache_s"] == one["cache_s"]


def test_a_two_gpu_task_holds_both_gpus_and_shows_rank_0s_progress(svc, models):
    point_at_standin(svc.store)
    add_dataset(svc)
    duo = tasks.create(svc.store, svc.layout, qwen_task(models, name="Duo", epochs=3, samples=False, gpus=[0, 1]))
    solo = tasks.create(svc.store, svc.layout, qwen_task(models, name="Solo", epochs=1, samples=False, gpus=[1]))
    sub = svc.bus.subscription()
    sub.subscribe(f"task:{duo['id']}")
    svc.supervisor.enqueue(duo["id"])
    wait_for(lambda: tasks.row(svc.store, duo["id"])["status"] == "running", what="Duo running")
    svc.supervisor.enqueue(solo["id"])
    assert svc.supervisor.busy_gpus() == {0, 1}
    done = svc.supervisor.wait(duo["id"], timeout=60)
    assert done["status"] == "done", done["error"]
    # Solo (GPU 1 only) waited for the two-GPU task to end
    solo_row = svc.supervisor.wait(solo["id"], timeout=60)
    assert solo_row["status"] == "done" and solo_row["started_at"] >= done["finished_at"] - 0.05
    # the stand-in's launcher tee'd the trainer as rank 0: its progress and loss were read through the prefix
    assert done["progress"]["step"] == done["progress"]["total_steps"] and done["progress"]["step"] > 0
    losses = [p for e in drain(sub) if e["type"] == "loss" for p in e["data"]["points"]]
    assert [p["step"] for p in losses] == list(range(1, done["progress"]["step"] + 1))
    log = Path(done["run"]["log_dir"]) / "run-001-train.log"
    assert "[default0]:" in log.read_text(encoding="utf-8")
    assert list((log.parent / "run-001-train-ranks").glob("*/attempt_0/0/stdout.log"))


def test_several_gpus_are_refused_on_windows_with_a_code():
    with pytest.raises(ValidationError) as err:
        ranks.check_platform(2, "win32")
    assert err.value.code == "multi_gpu_windows" and err.value.details["field"] == "gpus"
    ranks.check_platform(1, "win32")
    ranks.check_platform(4, "linux")
