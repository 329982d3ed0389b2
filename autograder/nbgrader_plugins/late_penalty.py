"""``autograde``: a late submission loses a percentage of its score per day late, up to a cap."""

from __future__ import annotations

from nbgrader.plugins import LateSubmissionPlugin
from traitlets import Float

from ..course.lms import late_penalty


class PerDayLatePenalty(LateSubmissionPlugin):
    """For nbgrader's ``AssignLatePenalties``: ``percent_per_day`` of the notebook's score per day begun, capped.

    nbgrader knows a submission is late from its ``timestamp.txt`` (written by
    ``nbgrader collect``, by ``zip_collect`` when the LMS's file names hold a time, or
    by hand) and the assignment's due date (``nbgrader db assignment add <id>
    --duedate="2025-03-07 17:00:00 Europe/Berlin"``).  The penalty is worked out when
    the submission is autograded, from the score it has then, and shows in the
    formgrader, the feedback and ``nbgrader export``.  Configure it in
    ``nbgrader_config.py``::

        c.AssignLatePenalties.plugin_class = "autograder.nbgrader_plugins.late_penalty.PerDayLatePenalty"
        c.PerDayLatePenalty.percent_per_day = 10.0
        c.PerDayLatePenalty.max_percent = 50.0
    """

    percent_per_day = Float(10.0, help="Percent of the score lost per day late (a day begun counts).").tag(config=True)
    max_percent = Float(50.0, help="The most a late submission loses, in percent of its score.").tag(config=True)
    grace_minutes = Float(
        0.0, help="Lateness forgiven, in minutes (an upload that took a while); days still count from the due date."
    ).tag(config=True)

    def late_submission_penalty(self, student_id: str, score: float, total_seconds_late: float) -> float:
        """The points `student_id`'s notebook loses for being `total_seconds_late` seconds late."""
        penalty = late_penalty(
            score or 0.0,
            total_seconds_late,
            percent_per_day=self.percent_per_day,
            max_percent=self.max_percent,
            grace_seconds=self.grace_minutes * 60,
        )
        days = -(-total_seconds_late // 86400)
        self.log.warning(
            "%s: handed in %.1f hours late (%d day(s) begun): loses %g of %g points (%g%% a day, at most %g%%)",
            student_id, total_seconds_late / 3600, days, penalty, score or 0.0, self.percent_per_day, self.max_percent,
        )  # fmt: skip
        return penalty
