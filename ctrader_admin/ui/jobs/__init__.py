"""The Jobs tab, in parts: the tab's layout and what opens plans (``tab``), running jobs
(``runs``), the plan's summary, rows and progress (``plan_view``, ``plan_model``, ``progress``),
the list of jobs (``job_list``, ``list_model``), the revert dialog, and the tables they share.
The words (states, summaries, row choices) come from ``services/job_summary.py`` and
``services/row_choice.py``."""
