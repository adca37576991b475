"""`python -m core.pipeline_policies`: see core/pipeline_policies/files.py."""

import sys

from core.pipeline_policies.files import main

sys.exit(main())
