"""The Singer side: the ``clicks`` stream wired to the SDK, its state, its messages, its CLI.

Owns the stream (schema, keys, partitions, ``get_records`` and ``post_process``), the HTTP
machinery the impact client sends through (the SDK's request building, auth, backoff and
metrics), the STATE written at the moments the export flow chooses, the message writer,
batch files, ``--test``, the stream-maps pre-check and the command line's one-line errors.
It assembles :mod:`~tap_impact_clicks.export` (the jobs) and
:mod:`~tap_impact_clicks.results` (the records). May import every room below it.
"""
