"""The CrossGuard policy pack: the core's invariants as stack policies (`pulumi preview --policy-pack policy`)."""
