"""The course repository around the package.

- :mod:`.build` -- generates release/ (student versions) and notebooks/ (worked solutions) from source/.
- :mod:`.submissions` -- turns the example answers into submissions (the demo, the tests, the benchmarks).
"""
