"""Tests of strato's Python side (analysis/): run strato on small studies, then read, plot and report them."""
