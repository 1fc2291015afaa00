"""The analyst workflow: the denial-analytics report, emerging-pattern alerts, and live-accuracy
monitoring of recorded predictions against the outcomes ingested later.

Every figure comes from a small pure function over the history's tables (``kpis``,
``patterns``), so a test or a notebook can recompute it directly. Nothing here reads or writes
patient identifiers: the report and the alerts speak of payers, codes, providers (NPIs are
public) and denial categories only.
"""
