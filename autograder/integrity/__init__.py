"""Academic integrity: how alike the students' submissions of an assignment are (see :mod:`.similarity`)."""
