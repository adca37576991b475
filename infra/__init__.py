"""The hokusai Pulumi program: pure settings/contract/documents, and one component per concern."""
