"""Grading a whole class.

- :mod:`.parallel` -- grades every submission in parallel (local workers or Dask), records through stock nbgrader.
- :mod:`.gradebook` -- one database engine per process for nbgrader's gradebook.
"""
