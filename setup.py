"""The optional C typing of common clicks (the package's metadata is in pyproject.toml).

``optional=True``: where no C compiler is found, the build goes on without it and the tap
types every click in Python, to the same records.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "tap_impact_clicks._speedups",
            ["tap_impact_clicks/_speedups.c"],
            optional=True,
        )
    ]
)
