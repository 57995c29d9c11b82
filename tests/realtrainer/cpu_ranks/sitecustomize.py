"""The tiny models' hook (../tiny/sitecustomize.py), plus one change that lets musubi train as two CPU processes.

On GPUs accelerate wraps only a model with trainable parameters in DistributedDataParallel (accelerator.py,
MULTI_GPU branch: `if any(p.requires_grad for p in model.parameters())`); musubi relies on it, since it
prepares its frozen DiT too (trainer_base._prepare_with_accelerator). accelerate 1.6's MULTI_CPU branch wraps
every model, and DDP refuses a model with nothing to train ("DistributedDataParallel is not needed when a
module doesn't have any parameter that requires a gradient"). Here a CPU process leaves such a model unwrapped,
as a GPU process does; the LoRA network, which has the trainable parameters, is wrapped as usual.
Active only with LW_TINY_MUSUBI=1 and LW_CPU_RANKS=1 (tests/realtrainer/test_multigpu.py).
"""

import os
import sys
from pathlib import Path

_tiny = Path(__file__).resolve().parents[1] / "tiny" / "sitecustomize.py"
exec(compile(_tiny.read_text(encoding="utf-8"), str(_tiny), "exec"))


def _accelerator(mod):
    real = mod.Accelerator.prepare_model

    def prepare_model(self, model, device_placement=None, evaluation_mode=False):
        if (self.distributed_type == mod.DistributedType.MULTI_CPU
                and not any(p.requires_grad for p in model.parameters())):
            self._models.append(model)
            return model
        return real(self, model, device_placement=device_placement, evaluation_mode=evaluation_mode)

    mod.Accelerator.prepare_model = prepare_model


if os.environ.get("LW_CPU_RANKS") == "1":
    PATCHES["accelerate.accelerator"] = _accelerator  # noqa: F821 - defined by the tiny hook above
