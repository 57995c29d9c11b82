"""Auto-tagging and captioning: backends (WD14 on onnxruntime, OpenAI-compatible APIs, musubi's
Qwen2.5-VL script) behind one small interface (base.py), and the job that runs them over a dataset
(job.py). The API lives in server/api/tagging.py.
"""
