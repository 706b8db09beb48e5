"""What the analysis commands share on the command line: an argument parser whose errors are one line
and do not exit, so that each command's main() returns exit status 2 itself."""
import argparse


class UsageError(Exception):
    """A command line that does not parse; the message is one line."""


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors and no exit: main() returns the status."""

    def error(self, message):
        raise UsageError(message)
