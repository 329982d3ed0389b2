"""The engine: what every assignment uses, and which knows no assignment.

- :mod:`.checks` -- :class:`~.checks.Check` and :class:`~.checks.Assignment`, the registry of assignments.
- :mod:`.probe` -- the code that runs *inside* the student's kernel; it only collects data.
- :mod:`.verdict` -- :class:`~.verdict.Verdict` and the helpers every judge shares.
- :mod:`.mistakes` -- :class:`~.mistakes.Mistake`, catalogues of them, matching wrong variants.
- :mod:`.explain` -- a wrong output in words when no mistake fits: how far off, on which inputs.
- :mod:`.in_process` -- ``run_check`` for the instructor's own notebook (no kernel, no sandbox).
"""
