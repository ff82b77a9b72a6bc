"""Errors the command line turns into a message and an exit code."""

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # the shell's convention for a run stopped by Ctrl-C (128 + SIGINT)


class DistillError(Exception):
    """A failure the operator can act on; the message says what to do."""

    exit_code = EXIT_CHECK_FAILED


class ConfigError(DistillError):
    """Bad usage or bad configuration: fails before anything is written."""

    exit_code = EXIT_USAGE


class CheckFailed(DistillError):
    """A test, an invariant or a required check failed."""

    exit_code = EXIT_CHECK_FAILED
