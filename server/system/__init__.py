"""The machine the app runs on: desktop integration and file dialogs, GPU and CPU monitoring, how child
processes start (children.py), the app log (applog.py) and what the Windows executable fixes at start."""
