"""Tools that look at the live estate (boto3, HTTP): verify, the rollout logic the
deploy gate shares, envcheck, smoke. They import the pure modules of infra/
(contract, settings, estate) and never the Pulumi program."""
