"""The machine the app runs on: desktop integration, GPU and CPU monitoring."""
