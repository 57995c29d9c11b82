"""The trainer's environment: where musubi-tuner is, which Python runs it, whether torch sees the GPU,
and the one-click setup / update / repair job.

- `procs`   running commands (argv lists) with a timeout or streamed into a job log, always stoppable
- `driver`  NVIDIA driver -> highest CUDA it supports -> torch build (cu124 / cu128 / cu130)
- `pythons` system Pythons 3.10-3.12 that can create a virtual environment
- `probe`   what the musubi interpreter has (torch, CUDA, accelerate), by running it on a small script
- `detect`  all of the above with every problem explained (code, message, what to do)
- `setup`   the setup / update / repair job
"""
