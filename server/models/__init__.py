"""The model library: the weights files (DiT, VAE, text encoders...) each architecture needs.

- `safetensors_header` reads a .safetensors header without torch (tensor count, dtypes, size, metadata).
- `checks` turns a path + the role it is meant for into a verdict with known mistakes caught.
- `library` derives the roles from the training task table and stores one path per role.
"""
