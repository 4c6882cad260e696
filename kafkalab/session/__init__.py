"""A user's session: the cluster plus the producers and consumers they started, and what they saw."""
