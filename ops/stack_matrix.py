"""The stacks CI runs its pipeline for, as a JSON list: the matrix of the workflows.

    python3 -m ops.stack_matrix                 # every Pulumi.<stack>.yaml: ["development", ...]
    python3 -m ops.stack_matrix --only <stack>  # that stack, if it has a file: ["<stack>"]

Every stack file gets the same pipeline without anyone editing a workflow; a
stack asked for by hand (workflow_dispatch) is held to the files. Standard
library only: the job that runs it has installed nothing.

Exit 0 with the list on stdout; 2 with the reason on stderr (no stack file, a
file no stack can be named after, or `--only` naming none of them).
"""

from __future__ import annotations

import argparse
import json
import sys

from core.stack_names import StackNameError, existing_stack, stack_names

EXIT_CANNOT = 2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m ops.stack_matrix", description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", metavar="STACK", help="just this stack, which must have a Pulumi.<stack>.yaml")
    args = parser.parse_args(argv)
    try:
        stacks = [existing_stack(args.only)] if args.only is not None else list(stack_names())
    except StackNameError as error:
        print(f"stack_matrix: {error}", file=sys.stderr)
        return EXIT_CANNOT
    print(json.dumps(stacks, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
