"""Unit constants and conversions: the one place they are defined."""

from __future__ import annotations

import math

HOURS_PER_YEAR = 8766.0  # 365.25 days * 24 h, as the paper
DAYS_PER_YEAR = 365.25
SECONDS_PER_HOUR = 3600.0
LN10 = math.log(10.0)
WATTS_PER_KILOWATT = 1000.0

#: dimension names used across the package (one vocabulary)
DIM_DRAW = "draw"
DIM_MODEL = "model"
DIM_METHOD = "cost_method"  # not "method": a keyword of xarray's .sel, which arviz also trips on
DIM_COMPONENT = "component"
DIM_INPUT = "input"
DIM_CHAIN = "chain"
DIM_YEAR = "year"

METHODS = ("amortized", "cloud", "acquisition")
COMPONENTS = ("chips", "other_server", "interconnect", "energy")
