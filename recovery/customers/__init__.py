"""Customer rules: facts kept current per customer, threshold crossings, assignments."""
