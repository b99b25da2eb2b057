"""The ground floor every room stands on: errors and exit codes, the clock, and stopping.

Owns the tap's error classes (each maps to one documented exit code), the one place time is
read or slept (so tests can simulate it), and what SIGINT/SIGTERM do (a stop that waits for
a Singer message being written). Imports nothing else of the tap.
"""
