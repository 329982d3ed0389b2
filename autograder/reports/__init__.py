"""Reports for instructors.

- :mod:`.class_report` -- how the class did: scores, tests, the mistakes named most often.
"""
