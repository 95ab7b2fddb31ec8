"""Logging filters.

`QuietPeriodicTicks` drops the task worker's INFO lines about the scheduler's periodic task
(`jobs.tasks.periodic_task` starts and succeeds every minute or so), which otherwise fill the
console of `make run` and hide the web server's lines. Every other task's lines, and a failed
periodic task (logged at ERROR with its traceback), still show.
"""

import logging

PERIODIC_TASK = "jobs.tasks.periodic_task"


class QuietPeriodicTicks(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING:
            return True
        args = record.args if isinstance(record.args, tuple) else ()
        return PERIODIC_TASK not in args
