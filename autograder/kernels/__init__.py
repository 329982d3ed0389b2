"""Kernels for untrusted student code.

- :mod:`.sandbox` -- bubblewrap around a Jupyter kernel (``SandboxedKernelManager``), fail closed.
- :mod:`.zygote` -- the one builder of a kernel's environment, inside the sandbox.
- :mod:`.forkserver` -- sandboxed kernels forked from a pre-imported Python (fast, for batch grading).
"""
