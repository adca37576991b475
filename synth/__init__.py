"""Offline rendering of the Pulumi program: recording mocks, the program runner, checks."""
