"""The pure core of hokusai-infra: what the estate is, with no cloud and no engine.

The contract, the stack settings (model, loader, documentation), naming, ARNs,
the Fargate size table, the JSON documents AWS is given, the description of the
deployed estate, the IAM policy evaluator, the rollout verdict shared by
`verify` and the deploy gate, and the table of inputs whose change replaces a
resource rather than updating it.

Nothing here imports `pulumi` or `boto3` (tests/test_layers.py reads the imports
and fails on a back-edge): the Pulumi components (infra/), the live tools (ops/),
the offline render (synth/) and the policy pack (policy/) all build on it.
"""
