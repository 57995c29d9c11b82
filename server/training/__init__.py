"""Training with musubi-tuner: the task-type table, command builder, runner and supervisor.

Modules (one idea each):
    task_types.py   architectures as data          fields.py      editable settings (+ form groups) as data
    config.py       task config check + resolve     catalog.py     the table as JSON for the UI
    cli_spec.py     argv checked against musubi's CLI contract (data/musubi-cli-spec.json)
    commands.py     config -> files + argv per stage (the plan)
    dataset_toml.py / sample_prompts.py   the generated files
    dataset_source.py   the app dataset a task reads      musubi_env.py   where musubi is, how to launch
    vram.py         VRAM estimate
    tasks.py        task rows + folders (CRUD)      planning.py    preview, run record, resume point
    cache_state.py  which caches are still right (per stage and item); stale ones deleted before a run
    dataset_checks.py   dataset / sample-image problems musubi would stop on, found before any stage
    lr_schedules.py     what each LR scheduler needs; a resumed run keeps the original schedule
    progress.py     musubi output -> progress       outputs.py     checkpoints / samples / states on disk
    proctree.py     process identity + stopping a tree
    runner.py       runs one task's stages          supervisor.py  queue, GPUs, start/stop/resume, re-attach
    convert.py      checkpoint -> ComfyUI format (a job)

Data: `<data>/tasks/<id>/` holds dataset.toml, sample_prompts.txt, cache/, logs/run-NNN-<stage>.log and
output/; table `tasks` (one row per task, JSON config/progress/run) and `task_loss` (loss per step).
Tests run the whole pipeline against a stand-in trainer (tests/standin/fake_musubi).
"""
