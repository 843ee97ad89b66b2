"""The one exception type for bad user input: the CLI prints it as a single line that names the fix."""


class UserError(Exception):
    """A problem with the user's input or files (missing weights, bad checksum, wrong key); exit code 2."""
