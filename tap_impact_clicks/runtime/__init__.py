"""The ground floor every room stands on: errors and exit codes, the clock, and stopping.

Owns the tap's error classes (each maps to one documented exit code) and how values are shown
in their messages (``wording``), the one place time is read or slept (so tests can simulate
it), what SIGINT/SIGTERM do (a stop that waits for a Singer message being written), and the
private SDK members the tap uses. Imports nothing else of the tap.
"""
